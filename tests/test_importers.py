"""`make import`: each format, on fixtures written for this project, built and read back."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.sitebuild import SITEURL, build_local, copy_content, run_tool

FIXTURES = Path(__file__).parent / "importers"
EMAILS = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
IPS = re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b")


def run_import(source: str, name: str, content: Path, *extra: str):
    path = name if Path(name).is_absolute() else FIXTURES / name
    return run_tool("import_content.py", source, path, "--content", content, *extra, timeout=300)


@pytest.fixture
def content(tmp_path) -> Path:
    return copy_content(tmp_path / "content")


def files(content: Path) -> dict[str, str]:
    return {
        p.relative_to(content).as_posix(): p.read_text(encoding="utf-8")
        for p in sorted(content.rglob("*"))
        if p.is_file()
    }


def built(tmp_path, content: Path):
    return build_local(tmp_path / "out", content=content)


@pytest.mark.parametrize("fixture", ["wxr12_https.xml", "wxr10_http.xml"])
def test_wordpress_posts_pages_comments_and_what_is_skipped(tmp_path, content, fixture):
    done = run_import("wordpress", fixture, content)
    assert done.returncode == 0, done.stderr
    for line in (
        "posts: 1",
        "pages: 1",
        "drafts: 2",
        "replies: 5",
        "pending replies: 1",
        "skipped: spam: 1",
        "skipped: pingback: 1",
        "skipped: post in trash: 1",
        "skipped: attachment (not a post or page): 1",
    ):
        assert line in done.stdout, (line, done.stdout)
    post = (content / "posts" / "three-interviews.md").read_text(encoding="utf-8")
    assert (
        "Import-Key: wordpress:shelflife.example.net:post:11" in post
        and "Category: Interviews" in post
    )
    assert "Original-URL: https://shelflife.example.net/2019/04/three-interviews/" in post
    assert "Date: 2019-04-12 14:30+00:00" in post
    draft = (content / "posts" / "unfinished-thoughts-on-salary.md").read_text(encoding="utf-8")
    assert "Status: draft" in draft and "Date: 2019-05-01 10:00\n" in draft  # local time
    comments = content / "comments" / "three-interviews"
    assert sorted(p.name for p in comments.iterdir()) == [
        "wp101.md",
        "wp102.md",
        "wp103.md",
        "wp104.md",
        "wp107.md",
    ]
    assert "Parent: wp102" in (comments / "wp103.md").read_text(encoding="utf-8")
    assert "Moderation: pending" in (comments / "wp104.md").read_text(encoding="utf-8")
    assert "Parent" not in (comments / "wp107.md").read_text(encoding="utf-8")
    assert "wp107 answers wp999, which is not in the file" in done.stdout
    assert (content / "comments" / "about-shelf-life" / "wp201.md").is_file()

    site = built(tmp_path, content)
    # The old /about/ is the demo site's own About page now: reported, not overwritten.
    assert site.messages == [
        f"Not redirecting /about/ to {SITEURL}/about-shelf-life/: the new site has a page there"
    ]
    page = site.soup("/2019/three-interviews/")
    nested = page.select_one("#reply-wp101 #reply-wp102 #reply-wp103")
    assert nested is not None and not page.select_one("#reply-wp104")
    assert site.soup("/about-shelf-life/").select_one("#reply-wp201")
    assert "Originally published at" in page.get_text()


def test_nothing_executable_and_no_address_survives_an_import(tmp_path, content):
    assert run_import("wordpress", "wxr12_https.xml", content).returncode == 0
    assert run_import("disqus", "disqus.xml", content).returncode == 0
    assert run_import("email", "reply.eml", content).returncode == 0
    written = "\n".join(files(content).values())
    for secret in (
        "ravi.k@mail.example.com",
        "203.0.113.77",
        "quinn@mail.example.com",
        "198.51.100.23",
        "tam.reyes@mail.example.com",
        "dee@shelflife.example.net",
    ):
        assert secret not in written
    site = built(tmp_path, content)
    html = (site.output / "2019" / "three-interviews" / "index.html").read_text(encoding="utf-8")
    assert "<script>alert" not in html and "onerror" not in html and "javascript:" not in html
    assert "&lt;b&gt;not bold&lt;/b&gt;" in html  # escaped text stays text
    for path in site.output.rglob("*"):
        if path.is_file() and path.suffix in (".html", ".xml", ".json", ".txt"):
            text = path.read_text(encoding="utf-8", errors="ignore")
            leaked = {
                m for m in EMAILS.findall(text) if "mail.example.com" in m or "shelflife" in m
            } | {ip for ip in IPS.findall(text) if ip in ("203.0.113.77", "198.51.100.23")}
            assert not leaked, (path, leaked)


@pytest.mark.parametrize("fixture", ["wxr_stray_byte.xml", "wxr_bad_date.xml"])
def test_malformed_wordpress_fails_naming_file_and_line_and_writes_nothing(content, fixture):
    before = files(content)
    done = run_import("wordpress", fixture, content)
    assert done.returncode == 2
    assert fixture in done.stderr and "nothing was written" in done.stderr
    if fixture == "wxr_stray_byte.xml":
        assert re.search(r"wxr_stray_byte\.xml:1:\d+: XML error", done.stderr)
        assert "nothing was imported" in done.stderr
    else:
        assert "cannot read the date '2019-13-45 99:00:00'" in done.stderr
    assert files(content) == before


def test_reimport_is_idempotent_and_edits_are_kept_without_force(content):
    assert run_import("wordpress", "wxr12_https.xml", content).returncode == 0
    first = files(content)
    again = run_import("wordpress", "wxr12_https.xml", content)
    assert "written" not in again.stdout and files(content) == first
    post = content / "posts" / "three-interviews.md"
    post.write_text(
        post.read_text(encoding="utf-8") + "\nAn edit by the owner.\n", encoding="utf-8"
    )
    kept = run_import("wordpress", "wxr12_https.xml", content)
    assert "changed since it was imported; kept (use --force" in kept.stdout
    assert "An edit by the owner." in post.read_text(encoding="utf-8")
    forced = run_import("wordpress", "wxr12_https.xml", content, "--force")
    assert forced.returncode == 0 and "An edit by the owner." not in post.read_text(
        encoding="utf-8"
    )


def test_an_unrelated_file_with_the_same_name_is_never_overwritten(content):
    mine = content / "posts" / "three-interviews.md"
    mine.write_text(
        "Title: Mine\nDate: 2020-01-01\nCategory: The Search\n\nNot imported.\n", encoding="utf-8"
    )
    done = run_import("wordpress", "wxr12_https.xml", content)
    assert done.returncode == 0 and "imported as three-interviews-2" in done.stdout
    assert mine.read_text(encoding="utf-8").startswith("Title: Mine")
    assert (content / "posts" / "three-interviews-2.md").is_file()


@pytest.mark.parametrize("fixture", ["reddit_escaped.json", "reddit_raw.json"])
def test_reddit_thread_keeps_depth_placeholders_and_counts_missing(tmp_path, content, fixture):
    done = run_import("reddit", fixture, content)
    assert done.returncode == 0, done.stderr
    assert "replies: 4" in done.stdout
    assert "placeholders (deleted, with replies): 1" in done.stdout
    assert "skipped: deleted or removed, no replies: 1" in done.stdout
    assert "replies not in the file ('more' stubs): 4" in done.stdout
    thread = content / "threads" / "rejected-after-the-final-round-confused.md"
    text = thread.read_text(encoding="utf-8")
    assert "Title: Rejected after the final round & confused" in text
    assert "Compare <these> & those." in text  # unescaped exactly once, either form
    site = built(tmp_path, content)
    assert site.messages == []
    soup = site.soup("/2023/rejected-after-the-final-round-confused/")
    assert soup.select_one("#reply-k1 #reply-k2 #reply-k3")
    assert "still me" in soup.select_one("#reply-k3").get_text()  # a fake header stays text
    assert not soup.select_one("#reply-evil")
    placeholder = soup.select_one("#reply-k4")
    assert "reply-removed" in placeholder["class"] and placeholder.select_one("#reply-k5")
    assert soup.select_one(".by-op#reply-k2")
    assert "Originally published at" in soup.get_text()


def test_both_reddit_forms_give_the_same_files(tmp_path):
    results = []
    for fixture in ("reddit_escaped.json", "reddit_raw.json"):
        content = copy_content(tmp_path / fixture)
        assert run_import("reddit", fixture, content).returncode == 0
        results.append(files(content))
    assert results[0] == results[1]


def test_discourse_topic_threads_by_reply_to_post_number(tmp_path, content):
    done = run_import(
        "discourse", "discourse_topic.json", content, "--base-url", "https://forum.example.org"
    )
    assert done.returncode == 0, done.stderr
    assert "skipped: moderator action: 1" in done.stdout and "replies: 2" in done.stdout
    assert "skipped: deleted, no replies: 1" in done.stdout
    assert "replies not in the file: 1" in done.stdout
    site = built(tmp_path, content)
    soup = site.soup("/2025/gap-year-cv/")
    assert soup.select_one("#reply-p3 #reply-p4") and not soup.select_one("#reply-p2")
    assert "Original-URL: https://forum.example.org/t/gap-year-cv/77" in (
        content / "threads" / "gap-year-cv.md"
    ).read_text(encoding="utf-8")


def test_disqus_matches_threads_by_link_and_lists_the_rest(tmp_path, content):
    done = run_import("disqus", "disqus.xml", content)
    assert done.returncode == 0, done.stderr
    assert "skipped: spam: 1" in done.stdout and "replies: 2" in done.stdout
    assert "placeholders (deleted, with replies): 1" in done.stdout
    assert "Disqus thread 901 (A post that never came over" in done.stdout
    assert "skipped: replies on unmatched threads: 1" in done.stdout
    folder = content / "comments" / "panel-interview-day"
    assert {"dq5001.md", "dq5002.md", "dq5003.md"} <= {p.name for p in folder.iterdir()}
    site = built(tmp_path, content)
    soup = site.soup("/2026/panel-interview-day/")
    assert soup.select_one("#reply-dq5002.reply-removed #reply-dq5003")


def test_malformed_disqus_fails_cleanly(content):
    before = files(content)
    done = run_import("disqus", "disqus_unquoted_attribute.xml", content)
    assert done.returncode == 2
    assert re.search(r"disqus_unquoted_attribute\.xml:\d+:\d+: XML error", done.stderr)
    assert files(content) == before


def test_email_replies_become_pending_comments_on_the_right_parent(content):
    done = run_import("email", "reply.eml", content)
    assert done.returncode == 0, done.stderr
    [path] = (content / "comments" / "other-offer-fell-through").glob("mail-*.md")
    text = path.read_text(encoding="utf-8")
    # No Name: line: a handle from the keyed hash of the address, never the display name.
    assert "Parent: halvard" in text and re.search(r"^Author: reader-[a-z2-7]{8}$", text, re.M)
    assert "Tam Reyes" not in text and "tam-1@mail.example.com" not in text
    assert "Moderation: pending" in text and re.search(r"^Message-Id: [0-9a-f]{64}$", text, re.M)
    assert "I did exactly this last year" in text and "quoted text" not in text
    assert "sent from my phone" not in text
    done = run_import("email", "replies.mbox", content)
    assert "skipped: no thread token or known In-Reply-To: 1" in done.stdout
    replies = sorted((content / "comments" / "other-offer-fell-through").glob("mail-*.md"))
    jo = next(p for p in replies if "Same here" in p.read_text(encoding="utf-8"))
    assert f"Parent: {path.stem}" in jo.read_text(encoding="utf-8")
    pending = run_tool("pending.py", "--content", str(content))
    assert "Same here" in pending.stdout and "Tam Reyes" not in pending.stdout


def test_reply_links_carry_the_token_the_email_importer_reads(site):
    soup = site.soup("/2026/other-offer-fell-through/")
    link = soup.select_one("#reply-halvard a.reply-link")["href"]
    assert link.startswith("mailto:replies@stacks-and-offers.example.org?subject=")
    assert "%5Breply-to%3A%20other-offer-fell-through%23halvard%5D" in link
    assert soup.select_one(".discussion a.reply-link.leave-reply")


def test_old_addresses_redirect_to_the_new_pages(tmp_path, content):
    assert run_import("wordpress", "wxr12_https.xml", content).returncode == 0
    site = built(tmp_path, content)
    old = site.output / "2019" / "04" / "three-interviews" / "index.html"
    soup = site.soup("/2019/04/three-interviews/")
    target = f"{SITEURL}/2019/three-interviews/"
    assert old.is_file() and soup.select_one('link[rel="canonical"]')["href"] == target
    assert f"/2019/04/three-interviews/ {target} 301" in (site.output / "_redirects").read_text()
    nginx = (site.output / "redirects.nginx.map").read_text()
    assert f"/?p=12 {SITEURL}/" not in nginx  # a draft has no page to go to
    assert f"/about/ {SITEURL}/about-shelf-life/;" in nginx


def test_names_from_an_export_cannot_leave_content(tmp_path, content):
    """Slugs and ids from a hostile export become safe names inside content/."""
    from tools.importers.common import Item, Reply, safe_id, slugify
    from tools.importers.writer import Writer

    assert slugify("../../etc/passwd", "x") == "etc-passwd"
    assert slugify("..", "post-7") == "post-7" and slugify("/", "") == "item"
    assert safe_id("../../x") == "x" and "/" not in safe_id("a/b\\c")
    when = __import__("datetime").datetime(2020, 1, 1)
    writer = Writer(content)
    hostile = Item(
        key="evil:1",
        kind="post",
        title="x",
        slug=slugify("../../../tmp/evil", "x"),
        date=when,
        author="x",
        body="x",
        category="The Search",
        replies=[Reply(id=safe_id("../../../../escape"), author="y", date=when, body="z")],
    )
    writer.item(hostile)
    written = sorted(p for p in content.rglob("*") if "evil" in p.name or "escape" in p.name)
    assert written and all(content in p.resolve().parents for p in written)
    assert not (tmp_path / "evil.md").exists() and not (tmp_path.parent / "evil.md").exists()
    with pytest.raises(ValueError, match="outside"):
        writer._inside(content / ".." / "outside.md")
