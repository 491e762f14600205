"""The real exports in ../shared/real-exports (when present) import and build, and the
counts on the built pages match counts taken from the source files independently."""

from __future__ import annotations

import json
import logging
from xml.etree import ElementTree

import pytest

from tests.sitebuild import ROOT, build_local, copy_content, run_tool

EXPORTS = ROOT.parent / "shared" / "real-exports"
pytestmark = pytest.mark.skipif(not EXPORTS.is_dir(), reason=f"{EXPORTS} is not here")
IMPORTS = [
    ("wordpress", "pelican_wordpressexport.xml"),
    ("wordpress", "wpimporter_theme-unit-test-data.xml"),
    ("wordpress", "wpimporter_a11y-unit-test-data.xml"),
    ("wordpress", "isso_wordpress.xml"),
    ("reddit", "praw_thread_2gmzqe_redditdev_small.json"),
    ("reddit", "praw_thread_jlbw48_selfpost_depth3.json"),
    ("reddit", "praw_thread_4b1tfm_with_deleted.json"),
    ("reddit", "praw_thread_3hahrw_funny_large_depth10.json"),
    ("discourse", "discourse_api_topic.json"),
    ("disqus", "isso_disqus.xml"),
]


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    root = tmp_path_factory.mktemp("real")
    content = copy_content(root / "content")
    for source, name in IMPORTS:
        done = run_tool(
            "import_content.py", source, str(EXPORTS / name), "--content", str(content), timeout=300
        )
        assert done.returncode == 0, (name, done.stderr)
    site = build_local(root / "out", content=content)
    return content, site


def test_every_real_export_imports_and_builds_without_errors(imported):
    _content, site = imported
    assert (site.output / "2015" / "ba-dum-tsss" / "index.html").is_file()
    errors = [r.getMessage() for r in site.records if r.levelno >= logging.ERROR]
    assert errors == []


def test_template_comments_keeps_all_19_approved_comments_nested_10_deep(tmp_path):
    content = copy_content(tmp_path / "content")
    done = run_tool(
        "import_content.py",
        "wordpress",
        str(EXPORTS / "wpimporter_theme-unit-test-data.xml"),
        "--content",
        str(content),
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    site = build_local(tmp_path / "out", content=content)
    ns = {"wp": "https://wordpress.org/export/1.2/"}
    tree = ElementTree.parse(EXPORTS / "wpimporter_theme-unit-test-data.xml")
    item = next(i for i in tree.iter("item") if i.findtext("title") == "Template: Comments")
    approved = {}
    for comment in item.findall("wp:comment", ns):
        kind = comment.findtext("wp:comment_type", "", ns) or "comment"
        if comment.findtext("wp:comment_approved", "", ns) == "1" and kind == "comment":
            approved[comment.findtext("wp:comment_id", "", ns)] = comment.findtext(
                "wp:comment_parent", "0", ns
            )
    depth = {}
    for cid in approved:
        d, parent = 1, approved[cid]
        while parent in approved:
            d, parent = d + 1, approved[parent]
        depth[cid] = d
    assert len(approved) == 19 and max(depth.values()) == 10
    shown = set(site.reply_ids("/2012/template-comments/"))
    assert shown == {f"wp{cid}" for cid in approved}  # pending, pingbacks, trackbacks: not shown
    # Nested as in the source: each comment sits inside its parent's element.
    for cid, parent in approved.items():
        if parent in approved and depth[cid] <= 6:  # deeper ones continue on their own page
            soup = site.soup("/2012/template-comments/")
            node = soup.select_one(f"#reply-wp{cid}")
            assert node.find_parent("li", class_="reply")["id"] == f"reply-wp{parent}"


def test_large_reddit_thread_shows_every_comment_that_is_in_the_file(imported):
    _content, site = imported
    data = json.loads((EXPORTS / "praw_thread_3hahrw_funny_large_depth10.json").read_text())
    comments, stack = [], list(data[1]["data"]["children"])
    while stack:
        entry = stack.pop()
        if entry["kind"] != "t1":
            continue
        comments.append(entry["data"])
        replies = entry["data"].get("replies")
        if isinstance(replies, dict):
            stack += replies["data"]["children"]
    parents = {c["parent_id"].removeprefix("t1_") for c in comments}
    gone = {"[deleted]", "[removed]"}
    expected = {c["id"] for c in comments if c["body"] not in gone or c["id"] in parents}
    assert len(expected) == 474
    assert set(site.reply_ids("/2015/ba-dum-tsss/")) == expected


def test_the_malformed_disqus_export_fails_cleanly(tmp_path):
    content = copy_content(tmp_path / "content")
    done = run_tool(
        "import_content.py",
        "disqus",
        str(EXPORTS / "remark42_disqus.xml"),
        "--content",
        str(content),
        timeout=120,
    )
    assert done.returncode == 2 and "remark42_disqus.xml:1:0: XML error" in done.stderr
    assert not (content / "comments").joinpath("radio-t").exists()
