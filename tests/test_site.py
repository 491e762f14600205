"""The demo site as a reader gets it: pages, listings, links, feeds, metadata."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import feedparser
import pytest

from tests.content_index import sources
from tests.linkcheck import check_links
from tests.sitebuild import SITEURL

SOURCES = sources()
ARTICLES = [s for s in SOURCES if s.kind != "page"]


def test_demo_content_builds_without_a_single_warning(site):
    assert site.messages == []


def test_demo_content_is_the_size_the_design_asks_for():
    posts = [s for s in SOURCES if s.kind == "post"]
    threads = [s for s in SOURCES if s.kind in ("question", "discussion")]
    assert len(posts) >= 8 and len(threads) >= 8
    assert len({s.fields["category"] for s in ARTICLES}) >= 4
    months = {s.fields["date"][:7] for s in ARTICLES}
    assert len(months) >= 9, months
    assert any(s.kind == "discussion" for s in threads)


@pytest.mark.parametrize("source", SOURCES, ids=lambda s: s.path.name)
def test_every_content_file_has_its_page(site, source):
    page = site.path(source.url)
    assert page.is_file(), f"{source.path} has no page at {source.url}"
    soup = site.soup(source.url)
    assert soup.find("h1").get_text(strip=True) == source.title
    assert soup.find("html")["lang"] == "en"


def _linked(site, first_url: str) -> set[str]:
    """Every link on a paginated listing, following its 'next' links."""
    seen, url, links = set(), first_url, set()
    while url and url not in seen:
        seen.add(url)
        soup = site.soup(url)
        links |= {a["href"] for a in soup.select("main a[href]")}
        nxt = soup.select_one('a[rel="next"]')
        url = nxt["href"] if nxt else None
    return links


def test_home_page_lists_every_post_and_thread(site):
    links = _linked(site, f"{SITEURL}/")
    missing = [s.path.name for s in ARTICLES if f"{SITEURL}{s.url}" not in links]
    assert missing == []


def test_archives_list_every_item_by_month(site):
    soup = site.soup("/archives/")
    links = {a["href"] for a in soup.select("main a[href]")}
    assert [s.path.name for s in ARTICLES if f"{SITEURL}{s.url}" not in links] == []
    months = [h.get_text(strip=True) for h in soup.select("main h2")]
    assert months[0] == "November 2026" and "December 2025" in months


def test_each_category_page_lists_its_items(site):
    categories = {s.fields["category"] for s in ARTICLES}
    hub = site.soup("/categories/")
    hub_links = {a.get_text(strip=True): a["href"] for a in hub.select("main a")}
    assert set(hub_links) == categories
    for name, url in hub_links.items():
        links = _linked(site, url)
        expected = [s for s in ARTICLES if s.fields["category"] == name]
        assert [s.path.name for s in expected if f"{SITEURL}{s.url}" not in links] == []


def test_each_tag_page_lists_its_items(site):
    hub = site.soup("/tags/")
    for a in hub.select("main ul.term-list a"):
        links = _linked(site, a["href"])
        tagged = [
            s
            for s in ARTICLES
            if a.get_text(strip=True) in [t.strip() for t in s.fields["tags"].split(",")]
        ]
        assert tagged, a
        assert [s.path.name for s in tagged if f"{SITEURL}{s.url}" not in links] == []


def test_no_link_in_the_output_is_broken(site):
    assert check_links(site.output, SITEURL) == []


def test_link_checker_catches_planted_broken_links(site, tmp_path):
    copy = tmp_path / "site"
    shutil.copytree(site.output, copy)
    page = copy / "about" / "index.html"
    html = page.read_text(encoding="utf-8").replace(
        "</main>",
        f'<a href="{SITEURL}/no-such-page/">a</a>'
        '<a href="../2026/is-the-mlis-worth-it/#reply-nope">'
        'b</a><img src="/missing.png" alt="" srcset="/ok.png 1x, /gone.png 2x"></main>',
    )
    page.write_text(html, encoding="utf-8")
    feed = copy / "feeds" / "all.atom.xml"
    feed.write_text(
        feed.read_text(encoding="utf-8").replace(
            f'href="{SITEURL}/2026/', f'href="{SITEURL}/2031/', 1
        ),
        encoding="utf-8",
    )
    broken = {(b.source, b.url) for b in check_links(copy, SITEURL)}
    assert ("about/index.html", f"{SITEURL}/no-such-page/") in broken
    assert ("about/index.html", "../2026/is-the-mlis-worth-it/#reply-nope") in broken
    assert ("about/index.html", "/missing.png") in broken
    assert ("about/index.html", "/gone.png") in broken
    assert ("about/index.html", "/ok.png") in broken
    assert any(source == "feeds/all.atom.xml" for source, _ in broken)


def _feeds(site) -> list[Path]:
    return sorted(site.output.rglob("*.atom.xml"))


def test_every_feed_parses(site):
    feeds = _feeds(site)
    assert len(feeds) >= 20
    for path in feeds:
        parsed = feedparser.parse(path.read_bytes())
        assert not parsed.bozo, (path, parsed.get("bozo_exception"))
        assert parsed.feed.get("title"), path


def test_site_feed_carries_every_post_and_thread(site):
    parsed = feedparser.parse((site.output / "feeds" / "all.atom.xml").read_bytes())
    links = {e.link for e in parsed.entries}
    newest = sorted(ARTICLES, key=lambda s: s.fields["date"], reverse=True)[:20]
    assert {f"{SITEURL}{s.url}" for s in newest} <= links


@pytest.mark.parametrize(
    "source", [s for s in SOURCES if s.kind == "post"], ids=lambda s: s.path.name
)
def test_post_pages_carry_blogposting_jsonld(site, source):
    data = [d for d in site.jsonld(source.url) if d.get("@type") == "BlogPosting"]
    assert len(data) == 1
    post = data[0]
    assert post["headline"] == source.title
    assert post["url"] == f"{SITEURL}{source.url}"
    assert post["datePublished"].startswith(source.fields["date"][:10])
    assert post["dateModified"]
    expected_author = source.fields.get("author", "Marisol Okafor")
    assert post["author"]["name"] == expected_author


def test_jsonld_cannot_break_out_of_its_script_element(site):
    for path in site.html_files():
        soup_text = path.read_text(encoding="utf-8")
        for chunk in soup_text.split('<script type="application/ld+json">')[1:]:
            body = chunk.split("</script>", 1)[0]
            assert "<" not in body, path
            json.loads(body)


def test_pages_have_landmarks_skip_link_and_labelled_nav(site):
    for url in ("/", "/about/", "/2026/is-the-mlis-worth-it/", "/categories/"):
        soup = site.soup(url)
        skip = soup.select_one("a.skip-link")
        assert skip["href"] == "#main" and soup.select_one("main#main")
        assert soup.select_one("nav[aria-label]") and soup.find("header") and soup.find("footer")
        assert soup.select("time[datetime]") or url in ("/about/", "/categories/")


def test_robots_and_404_page(site):
    assert "User-agent" in (site.output / "robots.txt").read_text(encoding="utf-8")
    assert site.soup("/404.html").find("h1").get_text() == "Page not found"


def test_drafts_are_not_published(tmp_path):
    from tests.sitebuild import build, copy_content

    content = copy_content(tmp_path / "content")
    (content / "posts" / "unfinished.md").write_text(
        "Title: Half a thought\nDate: 2026-11-01\nStatus: draft\nCategory: The Search\n\n"
        "Not ready.\n",
        encoding="utf-8",
    )
    built = build(tmp_path / "out", content=content)
    names = [p.name for p in built.output.rglob("*")]
    assert "half-a-thought.html" not in names and not (built.output / "drafts").exists()
    assert "Half a thought" not in (built.output / "index.html").read_text(encoding="utf-8")


def test_the_only_address_anywhere_in_the_output_is_the_sites_own(site):
    """Commenters' e-mail addresses (comment files carry some) and IP addresses never
    reach the output; the one address a reader sees is where replies go."""
    import re

    emails = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
    ips = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w.])")
    found_emails, found_ips = set(), set()
    for path in site.output.rglob("*"):
        if path.is_file() and path.suffix in (".html", ".xml", ".json", ".txt", ".map", ""):
            text = path.read_text(encoding="utf-8", errors="ignore")
            found_emails |= set(emails.findall(text))
            found_ips |= set(ips.findall(text))
    assert found_emails <= {"replies@stacks-and-offers.example.org"}
    assert found_ips == set()
