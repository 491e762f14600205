"""Huge inputs build, stay usable, and stay within the benchmark's memory target:
a thread of 10,000 replies, a 1 MB reply, 5,000 comment files on one post (and, in
test_threads_site.py, a chain 1,000 deep)."""

from __future__ import annotations

import re

import pytest

from tests.sitebuild import PUBLISHCONF, SITEURL, Site, copy_content, run_tool

MEMORY_TARGET_MIB = 400
REPLY = "```reply\nid: {id}\n{parent}author: Person {n}\ndate: 2026-06-01 {h:02d}:{m:02d}\n```\n\n"


@pytest.fixture(scope="module")
def huge(tmp_path_factory):
    root = tmp_path_factory.mktemp("huge")
    content = copy_content(root / "content")
    # 2,500 top-level replies, each with a chain of 3 below it: 10,000 replies.
    parts = [
        "Title: Ten thousand replies\nSlug: ten-thousand\nDate: 2026-06-01 08:00\n"
        "Kind: discussion\nAuthor: Host\nCategory: The Search\n\nSay hello.\n"
    ]
    for top in range(2500):
        parent = ""
        for level in range(4):
            n = top * 4 + level
            rid = f"t{top}-{level}"
            parts.append(
                REPLY.format(id=rid, parent=parent, n=n % 97, h=9 + level, m=top % 60)
                + f"Reply {n}: hello from level {level}.\n"
            )
            parent = f"parent: {rid}\n"
    (content / "threads" / "ten-thousand.md").write_text("\n".join(parts), encoding="utf-8")
    # One reply of about 1 MB.
    words = ("salary negotiation interview offer rejection " * 22000)[:1_000_000]
    (content / "threads" / "one-megabyte.md").write_text(
        "Title: A very long reply\nSlug: one-megabyte\nDate: 2026-06-02 08:00\nKind: question\n"
        "Author: Asker\nCategory: The Search\n\nIs this too long?\n\n"
        + REPLY.format(id="long", parent="", n=1, h=9, m=0)
        + words
        + "\n",
        encoding="utf-8",
    )
    # 5,000 comment files on one post.
    folder = content / "comments" / "informational-interviews"
    folder.mkdir()
    for n in range(5000):
        (folder / f"c{n}.md").write_text(
            f"Author: Reader {n % 300}\nDate: 2026-05-19 {n % 24:02d}:{n % 60:02d}\n\n"
            f"Comment number {n}.\n",
            encoding="utf-8",
        )
    out = root / "output"
    done = run_tool(
        "build.py",
        "--settings",
        str(PUBLISHCONF),
        "--content",
        str(content),
        "--output",
        str(out),
        "--siteurl",
        SITEURL,
        "--no-search",
        timeout=1200,
        fresh=True,  # its report of its own memory
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "error" not in done.stderr.lower(), done.stderr[-2000:]
    # The build's own report: its process and its largest worker, nothing else
    # this test session ran (Chromium, Pagefind).
    peak = re.search(r"peak (\d+) MiB \(largest worker (\d+) MiB\)", done.stdout)
    assert peak, done.stdout
    return Site(output=out, records=[]), max(int(peak[1]), int(peak[2]))


def test_ten_thousand_replies_are_paginated_and_all_there(huge):
    site, _peak = huge
    first = site.path("/2026/ten-thousand/").read_text(encoding="utf-8")
    assert first.count('<li class="reply') == 100 * 4  # 100 top-level with their chains
    assert site.path("/2026/ten-thousand/replies/page/25/").is_file()
    ids = site.reply_ids("/2026/ten-thousand/")
    assert len(ids) == len(set(ids)) == 10_000


def test_a_one_megabyte_reply_builds(huge):
    site, _peak = huge
    page = site.path("/2026/one-megabyte/").read_text(encoding="utf-8")
    assert 'id="reply-long"' in page and len(page) > 1_000_000


def test_five_thousand_comment_files_on_one_post(huge):
    site, _peak = huge
    ids = site.reply_ids("/2026/informational-interviews/")
    assert len(ids) == len(set(ids)) == 5000
    assert site.path("/2026/informational-interviews/replies/page/50/").is_file()


def test_huge_inputs_stay_within_the_memory_target(huge):
    _site, peak_mib = huge
    # The build's peak resident memory: its main process or its largest worker.
    assert peak_mib < MEMORY_TARGET_MIB, f"peak {peak_mib:.0f} MiB"
    print(f"\nhuge-input build: peak {peak_mib:.0f} MiB")
