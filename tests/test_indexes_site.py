"""How readers and crawlers find their way: categories, question lists, related
items, search index, sitemap, robots.txt, canonical links, social meta, breadcrumbs."""

from __future__ import annotations

import json
import tomllib
from xml.etree import ElementTree

from tests.content_index import sources, thread_replies
from tests.sitebuild import CONTENT, SITEURL, build

ARTICLES = [s for s in sources() if s.kind != "page"]
THREADS = [s for s in ARTICLES if s.kind in ("question", "discussion")]
SITEMAP_NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def listed(site, url: str) -> list[str]:
    """Item links of a paginated listing, in order, across its pages."""
    links, seen = [], set()
    while url and url not in seen:
        seen.add(url)
        soup = site.soup(url)
        links += [a["href"] for a in soup.select("li.item h2 a")]
        nxt = soup.select_one('a[rel="next"]')
        url = nxt["href"] if nxt else None
    return links


def source_answered(source) -> bool:
    asker = source.fields["author"]
    return any(
        r["author"] != asker and r.get("moderation", "published") == "published"
        for r in thread_replies(source.path)
    )


def test_question_lists_are_in_the_main_navigation(site):
    nav = site.soup("/").select_one('nav[aria-label="Main"]')
    hrefs = {a.get_text(strip=True): a["href"] for a in nav.select("a")}
    assert hrefs["Questions"] == f"{SITEURL}/questions/"
    assert hrefs["Recently active"] == f"{SITEURL}/questions/active/"
    assert "unanswered" in hrefs["Unanswered"]
    assert hrefs["Search"] == f"{SITEURL}/search/" and hrefs["Topics"] == f"{SITEURL}/topics/"


def test_all_threads_newest_first(site):
    expected = sorted(THREADS, key=lambda s: s.fields["date"], reverse=True)
    assert listed(site, "/questions/") == [f"{SITEURL}{s.url}" for s in expected]


def test_recently_active_orders_by_last_reply(site):
    def last(source):
        dates = [r["date"] for r in thread_replies(source.path)]
        return max([source.fields["date"], *dates])

    expected = sorted(THREADS, key=last, reverse=True)
    assert listed(site, "/questions/active/") == [f"{SITEURL}{s.url}" for s in expected]


def test_unanswered_lists_exactly_the_threads_only_the_asker_replied_to(site):
    expected = [s for s in THREADS if not source_answered(s)]
    assert expected  # the demo has one
    assert sorted(listed(site, "/questions/unanswered/")) == sorted(
        f"{SITEURL}{s.url}" for s in expected
    )


def test_question_lists_paginate(tmp_path):
    small = build(tmp_path / "out", DEFAULT_PAGINATION=3)
    assert small.messages == []
    assert len(listed(small, "/questions/")) == len(THREADS)
    assert small.path("/questions/page/2/").is_file()


def test_category_pages_tell_threads_from_posts_with_counts_and_descriptions(site):
    data = tomllib.loads((CONTENT / "categories.toml").read_text(encoding="utf-8"))
    descriptions = {c["name"]: c["description"] for c in data["categories"]}
    hub = site.soup("/categories/")
    for dt in hub.select("dl.category-index dt"):
        name = dt.get_text(strip=True)
        dd = dt.find_next_sibling("dd").get_text(" ", strip=True)
        items = [s for s in ARTICLES if s.fields["category"] == name]
        posts = sum(1 for s in items if s.kind == "post")
        assert descriptions[name] in dd
        assert f"{posts} post" in dd and f"{len(items) - posts} thread" in dd
        page = site.soup(dt.a["href"])
        assert descriptions[name] in page.select_one(".category-description").get_text()
        assert f"{posts} post" in page.select_one(".counts").get_text()
        for li in page.select("li.item"):
            badge = li.select_one(".badge").get_text()
            assert badge in ("Post", "Question", "Discussion")
            if badge != "Post":
                assert li.select_one(".reply-count")


def test_every_post_and_thread_shows_up_to_five_related_items(site):
    for source in ARTICLES:
        soup = site.soup(source.url)
        block = soup.select_one('[class*="related"]')
        assert block, source.path.name
        links = [a["href"] for a in block.select("li > a")]
        assert 1 <= len(links) <= 5 and f"{SITEURL}{source.url}" not in links


def test_search_index_holds_only_main_content_with_filters(site):
    entry = json.loads((site.output / "pagefind" / "pagefind-entry.json").read_text())
    bodies = [p for p in site.html_files() if "data-pagefind-body" in p.read_text(encoding="utf-8")]
    assert entry["languages"]["en"]["page_count"] == len(bodies)
    assert len(bodies) == len(ARTICLES) + 1  # and the one continuation page
    page = site.soup("/2026/other-offer-fell-through/")
    body = page.select_one("[data-pagefind-body]")
    # One filter per element (Pagefind reads an attribute as one value; what it makes of
    # them is tested through Pagefind itself in test_search_index.py).
    assert body["data-pagefind-filter"] == "type:Thread"
    assert [
        e["data-pagefind-filter"] for e in body.select('[data-pagefind-filter^="answered:"]')
    ] == ["answered:Solved"]
    assert {a.get_text() for a in body.select('[data-pagefind-filter="topic"]')} >= {"Offers"}
    assert not page.select_one("nav [data-pagefind-body], footer [data-pagefind-body]")
    post = site.soup("/2026/panel-interview-day/").select_one("[data-pagefind-body]")
    assert post["data-pagefind-filter"] == "type:Post"
    search = site.soup("/search/")
    assert search.select_one('script[src$="/pagefind/pagefind-ui.js"]') and search.noscript


def test_sitemap_lists_every_canonical_page_with_last_reply_as_lastmod(site):
    root = ElementTree.parse(site.output / "sitemap.xml").getroot()
    entries = {
        u.find(f"{SITEMAP_NS}loc").text: u.find(f"{SITEMAP_NS}lastmod").text
        for u in root.iter(f"{SITEMAP_NS}url")
    }
    pages = {}
    for path in site.html_files():
        relative = path.relative_to(site.output).as_posix()
        if relative in ("404.html",) or relative.startswith("pagefind/"):
            continue
        pages[f"{SITEURL}/{relative.removesuffix('index.html')}"] = path
    assert set(entries) == set(pages)
    thread = THREADS[0]
    replies = [r["date"] for r in thread_replies(thread.path)]
    assert entries[f"{SITEURL}{thread.url}"].startswith(max(replies).replace(" ", "T"))


def test_robots_txt_points_at_the_sitemap(site):
    robots = (site.output / "robots.txt").read_text(encoding="utf-8")
    assert "User-agent: *" in robots and f"Sitemap: {SITEURL}/sitemap.xml" in robots


def test_every_page_has_a_canonical_link_to_itself_and_social_meta(site):
    for path in site.html_files():
        relative = path.relative_to(site.output).as_posix()
        if relative == "404.html" or relative.startswith("pagefind/"):
            continue
        soup = site.soup("/" + relative)
        own = f"{SITEURL}/{relative.removesuffix('index.html')}"
        assert soup.select_one('link[rel="canonical"]')["href"] == own, relative
        assert soup.select_one('meta[property="og:url"]')["content"] == own
        for name in ("og:title", "og:description", "og:site_name", "og:type"):
            assert soup.select_one(f'meta[property="{name}"]')["content"].strip(), (relative, name)
        assert soup.select_one('meta[name="twitter:card"]')["content"] == "summary_large_image"
        image = soup.select_one('meta[property="og:image"]')["content"]
        assert image.startswith(f"{SITEURL}/") and site.path(image).is_file(), relative
    article = site.soup("/2026/panel-interview-day/")
    assert article.select_one('meta[property="og:type"]')["content"] == "article"


def test_breadcrumbs_home_category_item_with_jsonld(site):
    source = next(s for s in ARTICLES if s.slug == "panel-interview-day")
    soup = site.soup(source.url)
    crumbs = soup.select('nav[aria-label="Breadcrumb"] li a')
    assert [a.get_text() for a in crumbs] == ["Stacks & Offers", "Interviews", source.title]
    assert crumbs[-1]["aria-current"] == "page"
    [data] = [d for d in site.jsonld(source.url) if d["@type"] == "BreadcrumbList"]
    items = data["itemListElement"]
    assert [(i["position"], i["name"]) for i in items] == [
        (1, "Stacks & Offers"),
        (2, "Interviews"),
        (3, source.title),
    ]
    assert items[-1]["item"] == f"{SITEURL}{source.url}"


def test_a_category_description_for_no_category_is_reported(tmp_path):
    from tests.sitebuild import copy_content

    content = copy_content(tmp_path / "content")
    with (content / "categories.toml").open("a", encoding="utf-8") as handle:
        handle.write('\n[[categories]]\nname = "Interveiws"\ndescription = "typo"\n')
    built = build(tmp_path / "out", content=content)
    [message] = built.messages
    assert "categories.toml: a description for category 'Interveiws'" in message


def test_the_sitemap_dates_listings_by_their_newest_item_not_by_the_build(tmp_path):
    import re
    from datetime import datetime

    from tests.sitebuild import SITEURL, copy_content, run_build

    content = copy_content(tmp_path / "content")
    maps = []
    for name in ("first", "second"):  # two builds, in two processes, at two times
        done = run_build(tmp_path / name, content, "--no-search")
        assert done.returncode == 0, done.stderr
        maps.append((tmp_path / name / "sitemap.xml").read_text(encoding="utf-8"))
    assert maps[0] == maps[1]  # nothing changed: nothing claims to have
    found = re.findall(r"<loc>([^<]+)</loc>\s*<lastmod>([^<]+)</lastmod>", maps[0])
    lastmods = {loc: datetime.fromisoformat(when) for loc, when in found}
    newest = max(lastmods.values())
    assert lastmods[f"{SITEURL}/"] == newest  # the home page: the newest change on the site
    assert lastmods[f"{SITEURL}/questions/"] == newest
