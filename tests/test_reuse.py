"""A publish with nothing changed keeps the site it built last; any change builds anew.

The property that matters: after any sequence of edits, the site in output/ is
byte for byte what a clean build of the same content gives. Hypothesis picks
random edits, additions, deletions, rewrites that change nothing, and a new
SITEURL; after each, `make publish`'s command runs (keeping the last site when
it may) and a clean build (`--full`) runs beside it; the two must be equal.
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.sitebuild import PELICANCONF, copy_content, run_build, snapshot
from tools.inputs import differences, stable, tree_digest

FRESH_POST = """Title: {title}
Date: 2026-11-2{day} 09:00
Category: The Search

A short post written by the test, number {n}.
"""


def publish(output: Path, content: Path, *extra: str, siteurl: str):
    done = run_build(output, content, "--strict", "--no-search", *extra, siteurl=siteurl)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def test_a_publish_with_nothing_changed_keeps_the_last_site(tmp_path):
    content = copy_content(tmp_path / "content")
    output = tmp_path / "output"
    first = publish(output, content, siteurl="https://one.test")
    assert "Built " in first.stdout
    built = output.resolve()
    before = snapshot(output)

    again = publish(output, content, siteurl="https://one.test")
    assert "Nothing changed since" in again.stdout and "Built " not in again.stdout
    assert output.resolve() == built and snapshot(output) == before
    # The notice of placeholders still set is given again: the site still has them.
    assert ("Still set to the examples" in first.stdout) == (
        "Still set to the examples" in again.stdout
    )

    # Rewriting a file with the same bytes is no change; --full builds anyway.
    post = next((content / "posts").glob("*.md"))
    post.write_bytes(post.read_bytes())
    assert "Nothing changed since" in publish(output, content, siteurl="https://one.test").stdout
    forced = publish(output, content, "--full", siteurl="https://one.test")
    assert "Built " in forced.stdout and output.resolve() != built
    assert snapshot(output) == before


def test_a_kept_build_still_reports_its_problems_and_publish_still_refuses(tmp_path):
    content = copy_content(tmp_path / "content")
    (content / "posts" / "no-date.md").write_text("Title: No date\n\nText.\n", encoding="utf-8")
    output = tmp_path / "output"
    html = run_build(output, content, "--no-search", settings=PELICANCONF)
    assert html.returncode == 0 and "no-date.md" in html.stderr
    kept = run_build(output, content, "--no-search", settings=PELICANCONF)
    assert "Nothing changed since" in kept.stdout
    assert kept.stderr.count("no-date.md") == html.stderr.count("no-date.md")
    strict = run_build(output, content, "--no-search", "--strict", settings=PELICANCONF)
    assert strict.returncode == 1 and "Not published" in strict.stderr


def test_what_the_inputs_record_notices():
    assert stable({"b": [1, 2], "a": len}) == stable({"a": len, "b": (1, 2)})
    assert stable(object()) == stable(object())  # no memory addresses
    assert differences({"content": "x", "theme": "y"}, {"content": "z", "theme": "y"}) == [
        "content"
    ]


def test_a_folder_digest_sees_names_bytes_and_new_files(tmp_path):
    folder = tmp_path / "f"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "a.css").write_text("a {}", encoding="utf-8")
    first = tree_digest(folder)
    (folder / "sub" / "a.css").write_text("a { }", encoding="utf-8")
    second = tree_digest(folder)
    (folder / "sub" / "a.css").rename(folder / "sub" / "b.css")
    third = tree_digest(folder)
    (folder / "__pycache__").mkdir()
    (folder / "__pycache__" / "x.pyc").write_bytes(b"compiled")
    assert len({first, second, third}) == 3
    assert tree_digest(folder) == third  # compiled files are not inputs


CHANGES = st.sampled_from(
    ["edit-post", "add-post", "delete-post", "edit-reply", "same-bytes", "siteurl", "nothing"]
)


@settings(
    max_examples=4,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(CHANGES, min_size=2, max_size=3), pick=st.randoms(use_true_random=False))
def test_after_any_changes_the_published_site_is_what_a_clean_build_gives(
    tmp_path_factory, steps, pick
):
    root = tmp_path_factory.mktemp("reuse")
    content = copy_content(root / "content")
    # Apart: two outputs in one folder would share (and prune) one .site-versions.
    output, clean = root / "published" / "output", root / "clean" / "output"
    siteurl = "https://one.test"
    publish(output, content, siteurl=siteurl)
    for n, step in enumerate(steps):
        posts = sorted((content / "posts").glob("*.md"))
        replies = sorted((content / "comments").rglob("*.md"))
        if step == "edit-post":
            post = pick.choice(posts)
            post.write_text(post.read_text(encoding="utf-8") + f"\nEdited, step {n}.\n")
        elif step == "add-post":
            (content / "posts" / f"fresh-{uuid.uuid4().hex[:8]}.md").write_text(
                FRESH_POST.format(title=f"Fresh post {n}", day=n, n=n), encoding="utf-8"
            )
        elif step == "delete-post":
            # A post with no comment folder (a folder for a missing post is an error).
            alone = [p for p in posts if not (content / "comments" / p.stem).exists()]
            if alone:
                pick.choice(alone).unlink()
        elif step == "edit-reply":
            reply = pick.choice(replies)
            reply.write_text(reply.read_text(encoding="utf-8") + "\nAnd one more thing.\n")
        elif step == "same-bytes":
            post = pick.choice(posts)
            post.write_bytes(post.read_bytes())
        elif step == "siteurl":
            siteurl = f"https://site-{n}.test"
        publish(output, content, siteurl=siteurl)
        shutil.rmtree(clean.parent, ignore_errors=True)
        clean.parent.mkdir()
        publish(clean, content, "--full", siteurl=siteurl)
        assert snapshot(output) == snapshot(clean), (steps, step)
