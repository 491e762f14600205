"""The compatibility module (stacks_offers/compat.py): on a Pelican or pelican-sitemap version the
speed layer was not verified on, one warning names it and plain Pelican builds the same site."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from parallel import plugin as parallel
from pelican.contents import Article, Content, Page, Static
from pelican.settings import DEFAULT_CONFIG
from pelican.utils import SafeDatetime
from pelican.writers import Writer

from stacks_offers import compat
from stacks_offers.forkmap import default_jobs
from tests.sitebuild import PELICANCONF, ROOT, run_build
from tests.test_parallel import _site_files
from tools.bench import generate

UNVERIFIED = "pelican=4.99.0"


def test_an_items_text_kept_compressed_reads_as_pelicans_and_the_plain_copy_is_gone():
    """S9: before the writing step forks, each item's text is compressed; its
    pages read what Pelican's `content` gave, what the speed layer asks of the
    text is answered as before, and nothing keeps the plain text (neither the
    item nor Pelican's memo of it)."""
    text = "<p>A caf\u00e9 \u2014 and a long paragraph of the same words.</p>\n" * 40
    posts = [
        Article(
            body,
            {"title": "One", "date": SafeDatetime(2026, 1, 1)},
            settings=dict(DEFAULT_CONFIG),
            source_path=f"/site/content/posts/{n}.md",
            context={"generated_content": {}, "static_content": {}, "localsiteurl": ""},
        )
        for n, body in enumerate((text, text + '<a href="{filename}/posts/0.md">a link</a>'))
    ]
    pelicans = [post.content for post in posts]
    asked = [(compat.summary_is_static(p), compat.item_text(p)) for p in posts]
    assert [static for static, _source in asked] == [True, False]
    assert (posts[0], "") in Content.get_content.cache
    assert compat.pack_contents([*posts, posts[0]]) == 2  # each item packed once
    for post, content, answers in zip(posts, pelicans, asked, strict=True):
        assert post.content == content and post.get_content("https://elsewhere.test") == content
        assert (compat.summary_is_static(post), compat.item_text(post)) == answers
        assert len(post.get_content.packed) < len(content.encode()) / 4
        assert (post, "") not in Content.get_content.cache
        assert not hasattr(post, "_content")  # anything that still reads it fails


def test_a_kept_save_as_is_pelicans_and_is_not_worked_out_again(monkeypatch):
    """S10: after `keep_save_as`, an item's save-as path is the one Pelican gave,
    read without formatting the setting again; an item with nothing kept gets
    Pelican's own, and a static file still notes that its location was read."""
    settings = dict(DEFAULT_CONFIG)
    context = {"generated_content": {}, "static_content": {}, "localsiteurl": ""}

    def item(kind, n):
        return kind(
            "<p>text</p>",
            {"title": f"Item {n}", "date": SafeDatetime(2026, 1, 2), "slug": f"item-{n}"},
            settings=settings,
            source_path=f"/site/content/{n}.md",
            context=context,
        )

    post, page = item(Article, 1), item(Page, 2)
    pelicans = [post.save_as, page.save_as]
    compat.keep_save_as([post, page])
    formatted = []
    plain = Content.get_url_setting
    monkeypatch.setattr(
        Content, "get_url_setting", lambda self, key: formatted.append(key) or plain(self, key)
    )
    assert [post.save_as, page.save_as] == pelicans == ["item-1.html", "pages/item-2.html"]
    assert formatted == []
    later, image = item(Article, 3), item(Static, 4)
    assert later.save_as == "item-3.html" and formatted == ["save_as"]
    assert image.save_as.endswith("/4.md") and image._output_location_referenced


def test_the_installed_versions_are_the_verified_ones():
    # requirements.txt pins what compat.VERIFIED names: the speed layer runs.
    assert compat.unverified() == []
    assert compat.speed_layer({}) is True


def test_a_package_not_installed_is_not_an_unverified_one(monkeypatch):
    # A site with the threads plugin and no pelican-sitemap: nothing of it is reached.
    monkeypatch.setenv(compat.REPORT_VERSIONS_ENV, f"pelican-sitemap={compat.NOT_INSTALLED}")
    assert compat.unverified() == []
    monkeypatch.setenv(compat.REPORT_VERSIONS_ENV, "pelican-sitemap=1.3.0")
    assert compat.unverified() == ["pelican-sitemap 1.3.0 (verified: 1.2.2)"]


def test_an_unverified_version_turns_the_speed_layer_off_with_one_warning(monkeypatch, caplog):
    monkeypatch.setenv(compat.REPORT_VERSIONS_ENV, UNVERIFIED)
    assert compat.unverified() == ["pelican 4.99.0 (verified: 4.12.0)"]
    settings = {"BUILD_JOBS": 4}
    with caplog.at_level(logging.WARNING):
        assert compat.speed_layer(settings) is False
        assert default_jobs(settings) == 1  # one process, whatever BUILD_JOBS says
        assert parallel.get_writer(type("P", (), {"settings": settings})) is None
    said = [r.getMessage() for r in caplog.records if "not verified on" in r.getMessage()]
    assert len(said) == 1 and "pelican 4.99.0 (verified: 4.12.0)" in said[0]
    assert "SPEED_LAYER = False" in said[0]


def test_speed_layer_false_builds_without_it_and_says_nothing(caplog):
    settings = {"SPEED_LAYER": False, "BUILD_JOBS": 4}
    with caplog.at_level(logging.WARNING):
        assert compat.speed_layer(settings) is False and default_jobs(settings) == 1
    assert caplog.records == []
    assert compat.speed_layer({"BUILD_JOBS": 4}) and default_jobs({"BUILD_JOBS": 4}) == 4


def test_the_owning_writer_opens_only_what_it_owns(tmp_path):
    class Odd(compat.OwningWriter):
        def opened(self, name):
            return name.endswith("keep.html")

    writer = Odd(str(tmp_path), settings={"OUTPUT_PATH": str(tmp_path)})
    assert isinstance(writer, Writer)
    for name in ("keep.html", "drop.html"):
        with writer._open_w(str(tmp_path / name), "utf-8") as handle:
            handle.write("x")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.html"]


def _build(content, output, env: dict) -> subprocess.CompletedProcess:
    return run_build(output, content, "--no-search", settings=PELICANCONF, env=env)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """Enough items that every step of the speed layer forks (120 posts and threads)."""
    folder = tmp_path_factory.mktemp("compat-corpus")
    generate(folder, 120, seed=11)
    return folder / "project"


def test_a_build_on_an_unverified_version_is_the_same_site(corpus, tmp_path):
    fast = _build(corpus, tmp_path / "fast", {"BUILD_JOBS": "2"})
    assert fast.returncode == 0, fast.stderr
    assert "not verified on" not in fast.stderr
    plain = _build(
        corpus, tmp_path / "plain", {"BUILD_JOBS": "2", "COMPAT_REPORT_VERSIONS": UNVERIFIED}
    )
    assert plain.returncode == 0, plain.stderr
    assert plain.stderr.count("not verified on pelican 4.99.0 (verified: 4.12.0)") == 1
    one, other = (
        _site_files((tmp_path / "fast").resolve()),
        _site_files((tmp_path / "plain").resolve()),
    )
    assert len(one) > 300 and sorted(other) == sorted(one)
    assert [name for name in one if other[name] != one[name]] == []


# Pelican's own tests, with their asserts left as Python runs them: only which
# tests fail is compared, and rewriting Pelican's modules for pytest's messages
# cost each run about a sixth of its time.
PELICAN_TESTS = ("--assert=plain", "--pyargs", "pelican.tests", "-W", "ignore")


def _pelicans_own_tests(*extra: str) -> tuple[set[str], str]:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *extra, *PELICAN_TESTS],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": f"{ROOT}:{ROOT / 'plugins'}"},
    )
    failed = {
        line.split(" - ")[0] for line in done.stdout.splitlines() if line.startswith("FAILED")
    }
    return failed, done.stdout.strip().splitlines()[-1]


def test_pelicans_own_tests_give_the_same_results_with_the_speedups_in_place():
    plain, plain_summary = _pelicans_own_tests()
    fast, fast_summary = _pelicans_own_tests("-p", "tests.pelican_speedups_active")
    assert " passed" in fast_summary and " passed" in plain_summary
    # Some of Pelican's tests fail on any machine without its optional extras
    # (typogrify, its sample output); the speedups must change none of them.
    assert fast == plain, (fast ^ plain, fast_summary, plain_summary)
    assert fast_summary.split(" in ")[0] == plain_summary.split(" in ")[0]


@pytest.mark.parametrize("patch", sorted((ROOT / "docs" / "upstream").glob("*.patch")))
def test_each_upstream_candidate_applies_to_the_installed_pelican(patch, tmp_path):
    import shutil

    import pelican

    require_patch = shutil.which("patch")
    if require_patch is None:
        pytest.skip("the `patch` command is not installed")
    shutil.copytree(Path(pelican.__file__).parent, tmp_path / "pelican")
    done = subprocess.run(
        ["patch", "-p1", "--dry-run", "-i", str(patch)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
