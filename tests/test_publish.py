"""`make publish` swaps in a new site only after a complete, clean build."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.sitebuild import (
    PELICANCONF,
    PUBLISHCONF,
    ROOT,
    SITEURL,
    copy_content,
    run_build,
    snapshot,
)

BUILD = [sys.executable, str(ROOT / "tools" / "build.py")]

NEW_POST = """Title: A post written after the last publish
Date: 2026-11-20 09:00
Category: The Search
Tags: applications

This post must appear only once a build has fully finished.
"""

BROKEN_THREAD = """Title: A thread with a mistake
Date: 2026-11-21 09:00
Kind: question
Author: Someone

Is this thread fine?

```reply
id: r1
parent: nobody
author: Helper
date: 2026-11-21 10:00
```

It is not: my parent does not exist.
"""


def publish(
    output: Path, content: Path, *extra: str, settings: Path = PUBLISHCONF, env: dict | None = None
) -> subprocess.CompletedProcess:
    return run_build(output, content, *extra, settings=settings, env=env, timeout=300)


@pytest.fixture
def published(tmp_path) -> tuple[Path, Path, dict[str, str]]:
    content = copy_content(tmp_path / "content")
    output = tmp_path / "output"
    done = publish(output, content, "--strict")
    assert done.returncode == 0, done.stderr
    assert output.is_symlink()
    return output, content, snapshot(output)


def test_publish_builds_the_site_behind_a_link(published):
    output, _content, files = published
    assert "index.html" in files and "2026/is-the-mlis-worth-it/index.html" in files
    assert (output.parent / ".site-versions").is_dir()


@pytest.mark.parametrize("checkpoint", ["build", "staged", "swap"])
def test_a_publish_killed_half_way_leaves_the_previous_site_whole(published, checkpoint):
    output, content, before = published
    (content / "posts" / "after-publish.md").write_text(NEW_POST, encoding="utf-8")
    marker = output.parent / f"paused-{checkpoint}"
    command = [
        *BUILD,
        "--settings",
        str(PUBLISHCONF),
        "--output",
        str(output),
        "--content",
        str(content),
        "--siteurl",
        SITEURL,
        "--strict",
    ]
    env = {**os.environ, "SITE_BUILD_PAUSE_AT": checkpoint, "SITE_BUILD_PAUSE_FILE": str(marker)}
    process = subprocess.Popen(
        command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert process.poll() is None, "the build ended before reaching the checkpoint"
            assert time.monotonic() < deadline, "the build never reached the checkpoint"
            time.sleep(0.05)
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait(timeout=30)
    assert snapshot(output) == before

    # The next publish cleans up after the killed one and swaps in the new post.
    done = publish(output, content, "--strict")
    assert done.returncode == 0, done.stderr
    after = snapshot(output)
    assert "2026/a-post-written-after-the-last-publish/index.html" in after
    leftovers = [p.name for p in output.parent.iterdir() if p.name.startswith(".output-link-")]
    versions = output.parent / ".site-versions"
    assert leftovers == [] and not list(versions.glob("*.partial"))
    # (Old builds go to .site-versions/.trash/ and are removed in the background.)
    kept = [p for p in versions.iterdir() if p.is_dir() and not p.name.startswith(".")]
    assert len(kept) <= 2
    # Each kept build has the record of what it was made from beside it, and only they do.
    assert sorted(p.name for p in versions.glob("*.inputs.json")) == sorted(
        f"{p.name}.inputs.json" for p in kept
    )


def test_publish_with_a_mistake_fails_lists_it_and_keeps_the_old_site(published):
    output, content, before = published
    (content / "threads" / "broken.md").write_text(BROKEN_THREAD, encoding="utf-8")
    (content / "posts" / "after-publish.md").write_text(NEW_POST, encoding="utf-8")
    done = publish(output, content, "--strict")
    assert done.returncode == 1
    assert "broken.md:10: reply r1 answers 'nobody', which is not in this thread" in done.stderr
    assert "Not published" in done.stderr
    assert snapshot(output) == before


def test_html_build_reports_mistakes_and_still_builds_everything_else(published):
    output, content, _before = published
    (content / "threads" / "broken.md").write_text(BROKEN_THREAD, encoding="utf-8")
    done = publish(output, content, settings=PELICANCONF)
    assert done.returncode == 0
    assert "broken.md:10" in done.stderr
    page = output / "2026" / "a-thread-with-a-mistake" / "index.html"
    html = page.read_text(encoding="utf-8")
    assert 'id="reply-r1"' in html and "not here; shown under the post" in html


def test_two_builds_by_one_process_in_one_second_each_get_a_version(tmp_path, monkeypatch):
    """A version is named by the second it was started in and the process: a
    second build by the same process within that second (a program that calls
    `tools.build.build` twice) gets a name of its own, and is the one served."""
    from tools import build as build_tool

    strftime = time.strftime
    monkeypatch.setattr(
        build_tool.time,
        "strftime",
        lambda form, *when: "20261203T000000" if form == "%Y%m%dT%H%M%S" else strftime(form, *when),
    )
    content = copy_content(tmp_path / "content")
    output = tmp_path / "site" / "output"
    extra = {"PATH": str(content), "SITEURL": SITEURL, "FEED_DOMAIN": SITEURL}
    post = sorted((content / "posts").glob("*.md"))[0]
    for edit in ("first", "second"):
        post.write_text(post.read_text(encoding="utf-8") + f"\n{edit} edit\n", encoding="utf-8")
        assert build_tool.build(PELICANCONF, output, True, extra, search=False) == 0
    assert output.resolve().name == f"20261203T000000.2-{os.getpid()}"
    pages = [page.read_text(encoding="utf-8") for page in output.resolve().rglob("*.html")]
    assert any("second edit" in page for page in pages)
