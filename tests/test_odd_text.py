"""Odd text: right-to-left scripts, combining marks, emoji, NUL bytes (dropped, and said),
byte-order marks, CRLF line endings, very long words in titles and slugs, empty and
metadata-only files."""

from __future__ import annotations

import pytest

from tests.sitebuild import PELICANCONF, build, copy_content, run_tool

LONG = "Supercalifragilistic" * 30
RTL = "\u0645\u0631\u062d\u0628\u0627 \u0628\u0643"  # Arabic: welcome
ODD = f"{RTL} — e\u0301\u0301\u0301 combining, emoji 👩🏽‍💼🎉, zero\u200bwidth"


@pytest.fixture(scope="module")
def odd(tmp_path_factory):
    root = tmp_path_factory.mktemp("odd")
    content = copy_content(root / "content")
    (content / "posts" / "long.md").write_text(
        f"Title: {LONG} and {LONG}\nDate: 2026-07-01\nCategory: The Search\nTags: {LONG}\n\n"
        f"Body with {LONG}.\n",
        encoding="utf-8",
    )
    (content / "posts" / "empty.md").write_text("", encoding="utf-8")
    (content / "threads" / "metaonly.md").write_text(
        "Title: Only metadata\nDate: 2026-07-02\nKind: discussion\nAuthor: M\n"
        "Category: The Search\n",
        encoding="utf-8",
    )
    (content / "threads" / "bom-crlf.md").write_bytes(
        (
            "\ufeffTitle: BOM and CRLF\r\nDate: 2026-07-03\r\nKind: question\r\nAuthor: B\r\n"
            "Category: The Search\r\n\r\nBody\x00 with NUL\r\n\r\n```reply\r\nid: r1\r\n"
            f"author: \u0645\u062d\u0645\u062f\r\ndate: 2026-07-03 10:00\r\n```\r\n\r\n{ODD}\r\n"
        ).encode()
    )
    (content / "threads" / "rtl-title.md").write_text(
        f"Title: {RTL}\nDate: 2026-07-04\nKind: question\nAuthor: {RTL}\n"
        f"Category: The Search\n\n{ODD}\n",
        encoding="utf-8",
    )
    return build(root / "out", content=content, settings=PELICANCONF, RELATIVE_URLS=False)


def test_only_the_empty_file_and_the_nul_byte_are_reported_and_named(odd):
    content = odd.output.parent / "content"
    assert sorted(odd.messages) == sorted(
        [
            f"Skipping {content / 'posts' / 'empty.md'}: could not find information about 'title'",
            f"{content / 'threads' / 'bom-crlf.md'}:7: 1 control character(s) (U+0000 NUL) "
            "removed (line 7): feeds cannot carry them. Delete them from the file (a form feed "
            "or vertical tab now reads as a space).",
        ]
    )


def test_long_words_make_capped_slugs_for_pages_and_tags(odd):
    pages = [p for p in (odd.output / "2026").iterdir() if p.name.startswith("supercali")]
    [page] = pages
    assert len(page.name) <= 80 and (page / "index.html").is_file()
    tags = [p.name for p in (odd.output / "tag").iterdir() if p.name.startswith("supercali")]
    assert tags and all(len(t) <= 80 for t in tags)


def test_bom_crlf_nul_rtl_combining_and_emoji_survive(odd):
    soup = odd.soup("/2026/bom-and-crlf/")
    assert soup.h1.get_text() == "BOM and CRLF"
    assert "Body with NUL" in soup.select_one(".entry-content").get_text()
    reply = soup.select_one("#reply-r1").get_text()
    assert RTL in reply and "e\u0301\u0301\u0301" in reply and "👩🏽‍💼" in reply
    rtl = odd.soup(
        "/2026/"
        + next(
            p.name
            for p in (odd.output / "2026").iterdir()
            if "only" not in p.name and "bom" not in p.name and p.name.startswith("mrhb")
        )
        + "/"
    )
    assert rtl.h1.get_text() == RTL


def test_metadata_only_thread_builds_with_no_replies(odd):
    soup = odd.soup("/2026/only-metadata/")
    assert soup.select_one(".no-replies") and soup.select_one(".state-unanswered")


def test_a_build_that_stops_half_way_never_replaces_output(tmp_path):
    content = copy_content(tmp_path / "content")
    (content / "posts" / "bad.md").write_text(
        "Title: Bad slug\nSlug: " + "x" * 300 + "\nDate: 2026-07-01\nCategory: The Search\n\nx\n",
        encoding="utf-8",
    )
    done = run_tool(
        "build.py",
        "--settings",
        str(PELICANCONF),
        "--content",
        str(content),
        "--output",
        str(tmp_path / "output"),
        "--no-search",
        timeout=300,
    )
    assert done.returncode == 1 and "The build stopped" in done.stderr
    assert "Not built" in done.stderr and not (tmp_path / "output").exists()
