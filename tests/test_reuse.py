"""A publish reuses what it can of the last build; the site is always what a clean build gives.

With nothing changed, the last site is kept. With some content changed, the
build is incremental: per-item work (reading, threads, tagging) is taken from
the store where its inputs are the same, and a page is linked from the last
build where the site's structure and every item it read are the same
(stacks_offers/reuse.py). The property that matters: after any sequence of
edits, the site in output/ is byte for byte what a clean build of the same
content gives. Hypothesis picks random edits (a post's text or title, a
thread's text, a reply, tags, a page), additions (a post, a reply), deletions,
rewrites that change nothing, and a new SITEURL; after each, `make publish`'s
command runs and a clean build (`--full`) runs beside it; the two must be equal.
"""

from __future__ import annotations

import re
import shutil
import sqlite3
import time
import uuid
from contextlib import closing
from importlib import metadata
from pathlib import Path
from urllib.parse import urljoin, urlparse

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.sitebuild import PELICANCONF, SITEURL, copy_content, run_build, snapshot
from tools.bench import edit_first_reply, generate
from tools.inputs import differences, packages, stable, tree_digest

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


def test_after_a_build_with_workers_an_edit_renders_only_what_it_touched(tmp_path):
    """A build from nothing that writes in two processes keeps its items' text
    compressed (compat S9): what its pages read of each item must be noted as
    an incremental build then finds it, or the first publish after it renders
    again every page that shows a summary."""
    generate(tmp_path / "corpus", 120, seed=5)
    content = tmp_path / "corpus" / "project"
    output, thread = tmp_path / "output", content / "threads" / "item-0.md"
    two = {"BUILD_JOBS": "2"}  # forks whatever the machine's cores
    first = run_build(output, content, "--strict", "--no-search", env=two)
    assert first.returncode == 0 and "Built " in first.stdout, first.stderr[-3000:]
    # Each process keeps in the store what it read, built, tagged and
    # summarised: the store then holds what a build in one process keeps.
    one = tmp_path / "one" / "output"
    alone = run_build(one, content, "--strict", "--no-search", env={"BUILD_JOBS": "1"})
    assert alone.returncode == 0 and "Built " in alone.stdout, alone.stderr[-3000:]
    kept = _kept_work(output)
    assert kept == _kept_work(one)
    assert {kind for kind, keys in kept.items() if keys} >= {
        "read",
        "comment",
        "thread",
        "topics",
        "summary",
    }
    assert len(kept["read"]) == len(list(content.glob("*/*.md")))  # posts/, threads/
    assert len(kept["comment"]) == len(list((content / "comments").glob("*/*.md")))
    rendered = []
    for n in range(2):
        thread.write_text(
            edit_first_reply(thread.read_text(encoding="utf-8"), f" Edit {n}."), encoding="utf-8"
        )
        done = run_build(output, content, "--strict", "--no-search", env=two)
        assert done.returncode == 0, done.stderr[-3000:]
        kept = re.search(r"(\d+) of (\d+) pages unchanged", done.stdout)
        assert kept, done.stdout
        rendered.append(int(kept[2]) - int(kept[1]))
    # The thread's page and the few listings with its reply count, after the
    # build from nothing as after an incremental one.
    assert 0 < rendered[0] == rendered[1] < 10, rendered


def _kept_work(output: Path) -> dict[str, set[str]]:
    """The keys of the per-item work in the store beside `output`, by kind,
    after checking that the last build marked every one as used (the store
    forgets what two builds in a row did not use)."""
    (path,) = (output.parent / ".site-versions").glob("reuse-*.sqlite")
    with closing(sqlite3.connect(path)) as db:
        rows = db.execute("SELECT kind, key FROM work").fetchall()
        used = db.execute(
            "SELECT kind, key FROM used WHERE build = (SELECT MAX(n) FROM builds)"
        ).fetchall()
    assert sorted(used) == sorted(rows)
    kept: dict[str, set[str]] = {}
    for kind, key in rows:
        kept.setdefault(kind, set()).add(key)
    return kept


def test_a_file_an_item_attaches_is_beside_it_whichever_process_writes_its_page(tmp_path):
    """`{attach}` moves an image beside the item that links it when Pelican
    first writes the item's text. The main process copies the static files: an
    item whose page a worker wrote (a hidden post is on no listing), or whose
    page an incremental build linked from the last, must have its image moved
    all the same, where its page points (compat W6)."""
    from bs4 import BeautifulSoup
    from parallel.plugin import owner

    content = copy_content(tmp_path / "content")
    (content / "images").mkdir(exist_ok=True)
    for n in range(24):  # enough items for the writing step to fork
        (content / "posts" / f"filler-{n}.md").write_text(
            f"Title: Filler {n}\nDate: 2026-09-0{n % 9 + 1} 10:00\nCategory: The Search\n\n"
            f"Words about the search, number {n}.\n",
            encoding="utf-8",
        )
    # Old posts (in no feed), one hidden (on no listing), each page written by the worker.
    slugs = [f"attached-{n}" for n in range(200) if owner(f"2020/attached-{n}/index.html", 2)]
    for slug, status in zip(slugs[:2], ("published", "hidden"), strict=True):
        (content / "images" / f"{slug}.gif").write_bytes(b"GIF89a\x01\x00\x01\x00\x00\x00\x00;")
        (content / "posts" / f"{slug}.md").write_text(
            f"Title: Attached {slug}\nSlug: {slug}\nDate: 2020-01-02 10:00\n"
            f"Category: The Search\nStatus: {status}\n\n"
            f"A shelf: ![a shelf]({{attach}}../images/{slug}.gif)\n",
            encoding="utf-8",
        )
    output, two = tmp_path / "output", {"BUILD_JOBS": "2"}

    def images_where_pages_point() -> None:
        site = output.resolve()
        for slug in slugs[:2]:
            page = BeautifulSoup((site / "2020" / slug / "index.html").read_bytes(), "html.parser")
            source = page.select_one(f'img[src$="{slug}.gif"]')["src"]
            address = urljoin(f"{SITEURL}/2020/{slug}/", source)
            assert (site / urlparse(address).path.lstrip("/")).is_file(), source
            assert not (site / "images" / f"{slug}.gif").exists()

    first = run_build(output, content, "--no-search", env=two)
    assert first.returncode == 0 and "largest worker 0 MiB" not in first.stdout, first.stdout
    images_where_pages_point()
    filler = content / "posts" / "filler-3.md"
    filler.write_text(filler.read_text(encoding="utf-8") + "More words.\n", encoding="utf-8")
    again = run_build(output, content, "--no-search", env=two)
    assert again.returncode == 0 and "pages unchanged" in again.stdout, again.stdout
    images_where_pages_point()
    incremental = snapshot(output)
    assert run_build(output, content, "--no-search", "--full", env=two).returncode == 0
    assert snapshot(output) == incremental


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


def test_a_file_read_before_is_found_by_the_digest_the_inputs_pass_took(tmp_path):
    """An incremental build finds a content file's reading in its store by the
    digest tools/inputs.py took of it (the file is not read again): the key
    made from that digest is the key a reading of the bytes was kept under."""
    from stacks_offers.reuse import REUSE_SETTING, close, keep, recall, source_key, store

    content = tmp_path / "content"
    (content / "threads").mkdir(parents=True)
    thread, other = content / "threads" / "a.md", content / "threads" / "b.md"
    thread.write_bytes("Title: A\n\nSome text \u2014 of a thread.\n".encode())
    other.write_bytes(b"Title: B\n\nOther text.\n")
    files: dict[str, str] = {}
    tree_digest(content, files)
    plan = {"store": str(tmp_path / "store.sqlite"), "files": files}
    settings = {REUSE_SETTING: plan}
    key = source_key(settings, str(thread), thread.read_bytes())
    assert source_key(settings, str(thread)) == key
    assert key != source_key(settings, str(other), other.read_bytes())
    assert source_key(settings, str(tmp_path / "elsewhere.md")) is None  # no digest of it
    keep(settings, "read", key, "what was read")
    close(settings)

    settings = {REUSE_SETTING: plan}  # the next build, the same file
    assert recall(settings, "read", source_key(settings, str(thread))) == "what was read"
    assert store(settings).present("read", [key, "another key"]) == {key}
    close(settings)
    thread.write_bytes(b"Title: A\n\nEdited.\n")  # changed: another digest, another key
    files.clear()
    tree_digest(content, files)
    settings = {REUSE_SETTING: plan}
    assert store(settings).present("read", [source_key(settings, str(thread))]) == set()
    close(settings)


def test_many_results_are_recalled_at_once_with_their_messages(tmp_path, caplog):
    import logging

    from stacks_offers.reuse import REUSE_SETTING, close, keep, recall_many

    settings = {REUSE_SETTING: {"store": str(tmp_path / "store.sqlite")}}

    def said(n: int) -> list:
        fields = {"levelno": logging.WARNING, "levelname": "WARNING", "msg": f"kept {n}"}
        return [logging.makeLogRecord({"name": "test.reuse", **fields})]

    for n in range(1200):  # more than one query's worth
        keep(settings, "thread", f"k{n}", n, said(n) if n in (7, 1100) else [])
    close(settings)
    settings = {REUSE_SETTING: {"store": str(tmp_path / "store.sqlite")}}
    with caplog.at_level(logging.WARNING, logger="test.reuse"):
        found = recall_many(settings, "thread", [f"k{n}" for n in reversed(range(1200))] + ["x"])
    assert found == {f"k{n}": n for n in range(1200)}
    # Logged again in the order asked for (the build sorts them before showing them).
    assert [r.getMessage() for r in caplog.records] == ["kept 1100", "kept 7"]
    assert recall_many(settings, "comment", ["k1"]) == {}  # another kind
    close(settings)


def _files_and_build_settings(tmp_path, names):
    """Content files named `names` (their paths) and a function giving the
    settings of a build of them with a store (each call a new build's)."""
    import copy

    from pelican.plugins.threads.plugin import DEFAULTS
    from pelican.settings import DEFAULT_CONFIG

    from stacks_offers.reuse import REUSE_SETTING

    content = tmp_path / "content"
    content.mkdir()
    paths = []
    for name in names:
        (content / f"{name}.md").write_text(f"Title: {name}\n\nText {name}.\n", encoding="utf-8")
        paths.append(str(content / f"{name}.md"))
    files: dict[str, str] = {}
    tree_digest(content, files)
    plan = {"store": str(tmp_path / "store.sqlite"), "files": files}

    def settings_of_a_build() -> dict:
        return {
            **copy.deepcopy(DEFAULT_CONFIG),
            **DEFAULTS,
            "PATH": str(content),
            REUSE_SETTING: plan,
        }

    return paths, settings_of_a_build


def test_the_reader_takes_the_stores_readings_at_once_and_hands_each_over_when_read(
    tmp_path, caplog, monkeypatch
):
    """An incremental build's reader takes every reading its store holds of the
    files as they are in a few queries (`stored`), not one query each; each is
    handed over, its messages logged again, when Pelican reads that file."""
    import logging

    from pelican.plugins.threads.plugin import ThreadAwareMarkdownReader, _source_key

    from stacks_offers.reuse import Store, close, keep

    paths, settings_of_a_build = _files_and_build_settings(tmp_path, ("a", "b", "c"))
    settings = settings_of_a_build()
    warning = {"levelno": logging.WARNING, "levelname": "WARNING", "msg": "kept b"}
    for path in paths[:2]:  # c was not read before
        said = [logging.makeLogRecord({"name": "test.reuse", **warning})] if "b" in path else []
        keep(settings, "read", _source_key(settings, path), ("<p>" + path + "</p>", {}), said)
    close(settings)

    settings = settings_of_a_build()
    reader = ThreadAwareMarkdownReader(settings)

    def one_at_a_time(*_args):
        raise AssertionError("a reading was looked up on its own")

    monkeypatch.setattr(Store, "get", one_at_a_time)
    with caplog.at_level(logging.WARNING, logger="test.reuse"):
        assert reader.stored(paths) == set(paths[:2])
        assert caplog.records == []  # nothing logged before Pelican reads the file
        assert reader.read(paths[1]) == ("<p>" + paths[1] + "</p>", {})
        assert [r.getMessage() for r in caplog.records] == ["kept b"]
        assert reader.read(paths[0]) == ("<p>" + paths[0] + "</p>", {})
    reader.forget_ahead()
    assert "_stored" not in reader.__dict__
    close(settings)


def test_a_damaged_reading_in_the_store_fails_its_file_only(tmp_path):
    """A reading the store cannot give back (a row cut short) does not stop the
    reader taking the store's readings: each file is then looked up as Pelican
    reads it, the damaged one fails alone (Pelican reports it and builds the rest)."""
    import sqlite3

    from pelican.plugins.threads.plugin import ThreadAwareMarkdownReader, _source_key

    from stacks_offers.reuse import REUSE_SETTING, close, keep

    paths, settings_of_a_build = _files_and_build_settings(tmp_path, ("a", "b"))
    settings = settings_of_a_build()
    for path in paths:
        keep(settings, "read", _source_key(settings, path), ("<p>" + path + "</p>", {}), [])
    damaged = _source_key(settings, paths[1])
    close(settings)
    with sqlite3.connect(settings[REUSE_SETTING]["store"]) as db:
        db.execute("UPDATE work SET value = x'80059500' WHERE key = ?", (damaged,))
    db.close()

    settings = settings_of_a_build()
    reader = ThreadAwareMarkdownReader(settings)
    assert reader.stored(paths) == set(paths)  # held, as far as the store knows
    assert reader.read(paths[0]) == ("<p>" + paths[0] + "</p>", {})
    with pytest.raises(Exception, match="pickle"):
        reader.read(paths[1])  # what Pelican's loop catches and reports for this file
    close(settings)


def test_the_store_forgets_what_two_builds_in_a_row_did_not_use(tmp_path):
    from stacks_offers.reuse import MISSING, REUSE_SETTING, close, keep, recall, store

    def build(*looked_up: str, new: str = "") -> dict:
        settings = {REUSE_SETTING: {"store": str(tmp_path / "store.sqlite")}}
        store(settings)  # a build opens its store whatever it looks up
        found = {key: recall(settings, "read", key) for key in looked_up}
        if new:
            keep(settings, "read", new, new.upper())
        close(settings)
        return {key: value for key, value in found.items() if value is not MISSING}

    build(new="a")
    assert build("a", new="b") == {"a": "A"}
    build()  # uses nothing: what the build before used stays
    assert build("b") == {"b": "B"}  # a: unused by this build and the one before
    assert build("a", "b") == {"b": "B"}


def test_the_content_pass_reads_again_only_what_changed_since_the_last(tmp_path, monkeypatch):
    """A content file whose size, times and inode are what the last pass noted,
    and which had not changed for two seconds then, is not read again; any
    write, even one that sets the old modification time back, is seen."""
    import os

    from tools import inputs

    content = tmp_path / "content"
    (content / "posts").mkdir(parents=True)
    for n in range(5):
        (content / "posts" / f"p{n}.md").write_text(f"Title: P{n}\n\nText {n}.\n")
    (content / "posts" / "p3.md").write_text("Title: P3\n\nYour name here.\n")
    opened = []
    real_open = open
    monkeypatch.setattr(
        inputs,
        "open",
        lambda f, *a: opened.append(os.path.basename(f)) or real_open(f, *a),
        raising=False,
    )

    def content_pass(notes, marks=(b"Your name here",)):
        opened.clear()
        files, marked = {}, []
        whole = tree_digest(content, files, marks, marked, notes)
        return whole, files, [os.path.basename(m) for m in marked]

    notes: dict = {}
    first = content_pass(notes)
    assert len(opened) == 5 and first[2] == ["p3.md"] and len(notes["files"]) == 5
    assert content_pass(notes) == first and len(opened) == 5  # all written just now: read
    notes["since"] += 10**10  # as if that pass were made ten seconds later
    assert content_pass(notes) == first and opened == []
    # The same size, and the old modification time set back: the change time moved.
    p1 = content / "posts" / "p1.md"
    times = p1.stat()
    p1.write_text("Title: P1\n\nText 9.\n")
    os.utime(p1, ns=(times.st_atime_ns, times.st_mtime_ns))
    notes["since"] += 10**10
    second = content_pass(notes)
    assert opened == ["p1.md"] and second[0] != first[0] and second[2] == ["p3.md"]
    notes["since"] += 10**10
    assert content_pass(notes, marks=(b"Text 9",))[2] == ["p1.md"]  # other marks: read
    assert len(opened) == 5


FRESH_REPLY = """Author: Test Reader {n}
Date: 2026-11-2{n} 10:00

A reply the test added, number {n}.
"""

CHANGES = st.sampled_from(
    [
        "edit-post",
        "add-post",
        "delete-post",
        "edit-reply",
        "add-reply",
        "edit-thread",
        "edit-title",
        "retag",
        "edit-page",
        "same-bytes",
        "siteurl",
        "nothing",
    ]
)


def change_header(path: Path, key: str, change) -> None:
    lines = path.read_text(encoding="utf-8").split("\n")
    for n, line in enumerate(lines):
        if line.startswith(f"{key}: "):
            lines[n] = f"{key}: {change(line.split(': ', 1)[1])}"
            break
    path.write_text("\n".join(lines), encoding="utf-8")


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(CHANGES, min_size=2, max_size=4), pick=st.randoms(use_true_random=False))
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
        elif step == "add-reply":
            folder = pick.choice(sorted(p for p in (content / "comments").iterdir() if p.is_dir()))
            (folder / f"fresh-{n}.md").write_text(FRESH_REPLY.format(n=n), encoding="utf-8")
        elif step == "edit-thread":
            thread = pick.choice(sorted((content / "threads").glob("*.md")))
            thread.write_text(thread.read_text(encoding="utf-8") + f"\nA later word, step {n}.\n")
        elif step == "edit-title":
            item = pick.choice(posts + sorted((content / "threads").glob("*.md")))
            change_header(item, "Title", lambda title, n=n: f"{title} (step {n})")
        elif step == "retag":
            change_header(pick.choice(posts), "Tags", lambda tags, n=n: f"{tags}, step {n}")
        elif step == "edit-page":
            page = content / "pages" / "about.md"
            page.write_text(page.read_text(encoding="utf-8") + f"\nOne more line, step {n}.\n")
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


def _scaffold_made(versions: Path) -> Path:
    """The scaffold the tidying process leaves after a build (it runs on its own:
    wait for it, never for a time)."""
    scaffold = versions / ".scaffold"
    for _ in range(600):
        if scaffold.is_dir() and not list(versions.glob(".scaffold-making-*")):
            return scaffold
        time.sleep(0.1)
    raise AssertionError(f"no scaffold in {versions}: {sorted(p.name for p in versions.iterdir())}")


def test_a_build_starts_from_the_scaffold_and_keeps_only_the_folders_it_uses(tmp_path):
    """The folders of an old version, its files removed, are where the next build
    starts (making 10,000 folders is most of an edited publish's writing): a post
    deleted since leaves no empty folder behind, a new one gets its own, and the
    site is what a clean build gives, folder for folder."""
    content = copy_content(tmp_path / "content")
    output, clean = tmp_path / "published" / "output", tmp_path / "clean" / "output"
    versions = output.parent / ".site-versions"
    publish(output, content, siteurl="https://one.test")
    scaffold = _scaffold_made(versions)
    files = [p.relative_to(scaffold).as_posix() for p in scaffold.rglob("*") if not p.is_dir()]
    assert files == [".scaffold-folders"]  # folders only, and their list
    assert not (scaffold / "pagefind").exists()
    # Folders of pages and feeds only: a static file or the theme's could take
    # the name of one of their folders in a later build.
    assert (output.resolve() / "theme").is_dir() and not (scaffold / "theme").exists()
    assert (scaffold / "feeds").is_dir()

    alone = [
        p
        for p in sorted((content / "posts").glob("*.md"))
        if not (content / "comments" / p.stem).exists()
    ]
    gone = alone[0]
    gone_folder = next(
        p.parent.relative_to(output.resolve())
        for p in output.resolve().rglob("index.html")
        if p.parent.name == gone.stem
    )
    assert (scaffold / gone_folder).is_dir()
    year = gone_folder.parts[0]
    year_folder = (scaffold / year).stat().st_ino
    gone.unlink()
    (content / "posts" / "a-new-post.md").write_text(
        FRESH_POST.format(title="A new post", day=1, n=1), encoding="utf-8"
    )
    publish(output, content, siteurl="https://one.test")
    site = output.resolve()
    assert (site / year).stat().st_ino == year_folder  # the scaffold's folder, taken whole
    assert not (site / gone_folder).exists()
    publish(clean, content, "--full", siteurl="https://one.test")
    assert snapshot(output) == snapshot(clean)
    # The scaffold taken, the next comes from the version on its way out.
    assert _scaffold_made(versions).is_dir()
    # A build that fails takes the scaffold with it; another is made for the next.
    (content / "posts" / "no-date.md").write_text("Title: No date\n\nText.\n", encoding="utf-8")
    failed = run_build(output, content, "--strict", "--no-search", siteurl="https://one.test")
    assert failed.returncode == 1 and output.resolve() == site
    assert _scaffold_made(versions).is_dir()


def test_an_old_version_stripped_keeps_its_page_folders_and_nothing_else(tmp_path):
    from tools.tidy_versions import page_folders

    old = tmp_path / "old"
    for name in (
        "2026/a-post/index.html",
        "2026/a-post/feed.xml",
        "tag/x/2/index.html",
        "theme/css/style.css",
        "images/diagram/a.png",
        "pagefind/part-2/x.pf_meta",
        "index.html",
    ):
        (old / name).parent.mkdir(parents=True, exist_ok=True)
        (old / name).write_text("x", encoding="utf-8")
    (old / "2026" / "link").symlink_to(old / "images")
    folders = page_folders(old, strip=True)
    assert folders == ["2026", "tag", "2026/a-post", "tag/x", "tag/x/2"]
    assert sorted(p.relative_to(old).as_posix() for p in old.rglob("*")) == sorted(folders)
    assert page_folders(old) == []  # no page left in it


def test_a_file_takes_the_place_of_an_empty_scaffold_folder_and_of_nothing_else(tmp_path):
    from stacks_offers import reuse

    source = tmp_path / "page.html"
    source.write_text("<p>A page</p>", encoding="utf-8")
    empty = tmp_path / "site" / "2026" / "was-a-folder"
    (empty / "2").mkdir(parents=True)  # a scaffold's: folders only
    reuse.link_or_copy(source, empty)
    assert empty.is_file() and empty.stat().st_ino == source.stat().st_ino
    used = tmp_path / "site" / "2026" / "holds-a-page"
    used.mkdir()
    (used / "index.html").write_text("<p>Written by this build</p>", encoding="utf-8")
    with pytest.raises(OSError):
        reuse.link_or_copy(source, used)
    assert (used / "index.html").is_file()  # left as it was: the build reports the clash


def test_an_incremental_publish_renders_only_what_an_edit_touched_and_keeps_reporting(tmp_path):
    """One reply edited: its thread's page and the pages that show the thread are
    rendered again, every other page is the last build's file (the same inode);
    a problem found in a file read in an earlier build is still reported."""
    content = copy_content(tmp_path / "content")
    (content / "posts" / "no-date.md").write_text("Title: No date\n\nText.\n", encoding="utf-8")
    output = tmp_path / "output"
    first = run_build(output, content, "--no-search", settings=PELICANCONF)
    assert first.returncode == 0 and "no-date.md" in first.stderr
    before = {p: p.stat().st_ino for p in output.resolve().rglob("*.html")}
    root_before = output.resolve()
    last_site = snapshot(output)

    reply = content / "comments" / "panel-interview-day" / "maya.md"
    reply.write_text(reply.read_text(encoding="utf-8") + "\nA line added later.\n")
    again = run_build(output, content, "--no-search", settings=PELICANCONF)
    assert again.returncode == 0, again.stderr[-2000:]
    assert "pages unchanged, taken from the previous build" in again.stdout
    # The kept reading of no-date.md still says what is wrong with it.
    assert again.stderr.count("no-date.md") == first.stderr.count("no-date.md")
    assert run_build(output, content, "--no-search", "--strict").returncode == 1

    root = output.resolve()
    # The last build, kept for a rollback, is untouched: nothing was written through a link.
    assert root != root_before and snapshot(root_before) == last_site
    linked = {
        p.relative_to(root).as_posix()
        for p in root.rglob("*.html")
        if before.get(root_before / p.relative_to(root)) == p.stat().st_ino
    }
    rendered = {p.relative_to(root).as_posix() for p in root.rglob("*.html")} - linked
    thread_page = next(p for p in rendered if "panel-interview-day" in p)
    assert thread_page and "A line added later." in (root / thread_page).read_text()
    assert "about/index.html" in linked
    assert len(linked) > 3 * len(rendered)
    # The archives list the post by its title, address, date and status, none of
    # which a reply's text changes: the page is the last build's. (The home page
    # shows the post's own summary, which is read as a whole: it is rendered.)
    assert "archives/index.html" in linked, sorted(rendered)

    # The post's title changes: every listing that names it is rendered again.
    before = {p: p.stat().st_ino for p in root.rglob("*.html")}
    post = content / "posts" / "panel-interview-day.md"
    post.write_text(
        post.read_text(encoding="utf-8").replace(
            "Title: Panel interviews at academic libraries, hour by hour",
            "Title: Panel interviews, hour by hour",
        ),
        encoding="utf-8",
    )
    third = run_build(output, content, "--no-search", settings=PELICANCONF)
    assert third.returncode == 0, third.stderr[-2000:]
    newest = output.resolve()
    archives = newest / "archives" / "index.html"
    assert archives.stat().st_ino != before[root / "archives" / "index.html"]
    assert "Panel interviews, hour by hour" in archives.read_text(encoding="utf-8")
    assert "about/index.html" in {
        p.relative_to(newest).as_posix()
        for p in newest.rglob("*.html")
        if before.get(root / p.relative_to(newest)) == p.stat().st_ino
    }


def _article(title: str, text: str, path: str):
    from datetime import datetime

    from pelican.contents import Article
    from pelican.settings import DEFAULT_CONFIG

    metadata = {"title": title, "date": datetime(2026, 11, 30, 9, 0)}
    return Article(text, metadata, settings=dict(DEFAULT_CONFIG), source_path=path)


def test_a_page_depends_on_what_it_read_of_the_items_it_lists():
    """Through Jinja (`reuse.watch`): a listed item's title and date are noted
    by name, and the page's key changes with them but not with the item's
    text; reading the text, or handing the item to a filter of the site's own,
    makes the page depend on the whole item; Jinja's own filters read through
    the environment and are noted by name too."""
    from jinja2 import Environment

    from stacks_offers import reuse

    one, two, three, four = (
        _article(f"Title {n}", f"<p>Text {n}</p>", f"/site/{n}.md") for n in range(4)
    )
    environment = Environment(autoescape=True)
    environment.filters["own"] = lambda item: item.title.upper()
    reuse.watch(environment)
    template = environment.from_string(
        "{{ a.title }} {{ a.date }} {{ b.content }} {{ c | own }} {{ d | attr('title') }}"
    )
    with reuse.Reads.of_one_page() as reads:
        template.render(a=one, b=two, c=three, d=four)
    assert dict(reads) == {
        "/site/0.md": {"title", "date"},
        "/site/1.md": reuse.WHOLE,
        "/site/2.md": reuse.WHOLE,
        "/site/3.md": {"title"},
    }

    def key(items):
        """What decides the page: the part of each item it read."""
        digests = {item.source_path: f"file of {item.title} {item._content}" for item in items}
        pages = reuse.Pages("structure", digests, {i.source_path: i for i in items})
        pages.record("page.html", reads)
        return pages.parts()

    first = key([one, two, three, four])
    retold = _article("Title 0", "<p>Another text</p>", "/site/0.md")
    assert key([retold, two, three, four]) == first  # its title and date are the same
    renamed = _article("Title 0, renamed", "<p>Text 0</p>", "/site/0.md")
    assert key([renamed, two, three, four]) != first
    rewritten = _article("Title 1", "<p>Text 1, rewritten</p>", "/site/1.md")
    assert key([one, rewritten, three, four]) != first  # read whole: its file decides

    # The next build reuses the page while every part it read is the same.
    then = reuse.Pages("structure", {}, {})
    then.record("page.html", reads)
    records = dict(then.records)
    for items, same in (([retold, two, three, four], True), ([renamed, two, three, four], False)):
        digests = {item.source_path: f"file of {item.title} {item._content}" for item in items}
        now = reuse.Pages("structure", digests, {i.source_path: i for i in items})
        now.prepare(first)
        assert now.reusable("page.html", records, first) is same
        assert not now.reusable("other.html", records, first)  # never recorded
        unprepared = reuse.Pages("structure", digests, {i.source_path: i for i in items})
        assert unprepared.reusable("page.html", records, first) is same  # pair by pair
    # A page that read the renamed item in full is not reusable either: the item
    # is noted as changed once for all its pages.
    then.record("whole.html", ["/site/0.md"])
    records = dict(then.records)
    everything = reuse.Pages("structure", {i.source_path: "d" for i in (one, two, three, four)}, {})
    everything.record("page.html", reads)
    everything.record("whole.html", ["/site/0.md"])
    parts_then = everything.parts()
    now = reuse.Pages(
        "structure",
        {"/site/0.md": "changed", **{i.source_path: "d" for i in (two, three, four)}},
        {},
    )
    now.prepare(parts_then)
    assert not now.reusable("whole.html", records, parts_then)
    assert not now.reusable("page.html", records, parts_then)


def test_an_edit_works_out_again_only_the_edited_items_parts():
    """Deciding which pages an edit leaves as they were: an item whose digest
    is the one the last build noted keeps the parts it had (its values are not
    read again); the edited item's are worked out, and a listing is reused
    while what it shows of it is the same."""
    from stacks_offers import reuse

    class Item:
        def __init__(self, path: str, title: str) -> None:
            self.source_path, self._title, self.asked = path, title, 0

        @property
        def title(self) -> str:
            self.asked += 1
            return self._title

    def pages(digests: dict, items: list) -> reuse.Pages:
        return reuse.Pages("structure", digests, {i.source_path: i for i in items})

    before = [Item("/site/a.md", "A"), Item("/site/b.md", "B")]
    then = pages({"/site/a.md": "a1", "/site/b.md": "b1"}, before)
    then.record("list.html", {"/site/a.md": {"title"}, "/site/b.md": {"title"}})
    then.record("a.html", ["/site/a.md"])
    then.record("b.html", ["/site/b.md"])
    parts = then.parts()
    records = dict(then.records)
    for title, listing_kept in (("B", True), ("B, retitled", False)):
        a, b = Item("/site/a.md", "A"), Item("/site/b.md", title)
        now = pages({"/site/a.md": "a1", "/site/b.md": "b2"}, [a, b])  # b's file edited
        now.prepare(parts)
        assert (a.asked, b.asked) == (0, 1)
        assert now.reusable("a.html", records, parts)
        assert not now.reusable("b.html", records, parts)
        assert now.reusable("list.html", records, parts) is listing_kept
        # What is kept for the next build: a's parts as they were (not read
        # again to be saved), b's as they are.
        now.records.update(records)
        assert now.parts()[("/site/a.md", ("title",))] == parts[("/site/a.md", ("title",))]
        assert a.asked == 0
        assert (now.parts()[("/site/b.md", ("title",))] == parts[("/site/b.md", ("title",))]) is (
            listing_kept
        )


def test_a_changed_topic_vocabulary_or_model_is_read_anew(tmp_path):
    """The compiled vocabulary and model come from the store while both files
    are the same: after either changes, the site is a clean build's."""
    content = copy_content(tmp_path / "content")
    output, clean = tmp_path / "published" / "output", tmp_path / "clean" / "output"
    publish(output, content, siteurl="https://one.test")
    before = snapshot(output)
    model = content / "topics-model.json"
    vocabulary = content / "topics.toml"
    changes = [
        # The learned layer keeps only the surest topics: a model-only change.
        lambda: model.write_text(
            model.read_text(encoding="utf-8").replace('"add": 0.35', '"add": 0.99', 1),
            encoding="utf-8",
        ),
        # A topic needs a far higher score from the rules.
        lambda: vocabulary.write_text(
            vocabulary.read_text(encoding="utf-8").replace(
                "threshold = 3.5 ", "threshold = 30.0", 1
            ),
            encoding="utf-8",
        ),
    ]
    for change in changes:
        change()
        # Not --strict: a changed vocabulary makes the model stale, which is a warning.
        for folder, options in ((output, ()), (clean, ("--full",))):
            if folder == clean:
                shutil.rmtree(clean.parent, ignore_errors=True)
                clean.parent.mkdir(parents=True)
            done = run_build(folder, content, "--no-search", *options, siteurl="https://one.test")
            assert done.returncode == 0, done.stderr[-3000:]
        after = snapshot(output)
        assert after == snapshot(clean)
        assert after != before  # the change did change the site's topics
        before = after


def test_the_inputs_name_each_installed_package_and_its_version():
    """A package upgraded (or added) is a change of the inputs: a full build."""
    listed = packages()
    for name in ("pelican", "markdown", "beautifulsoup4", "nh3", "pagefind"):
        version = re.escape(metadata.version(name))
        assert re.search(rf"(?i)\b{name}-{version}\.dist-info", listed), name
