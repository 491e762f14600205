"""Finding one's way as a reader (and a link-sharing tool) sees it: the main
navigation, tags beside topics, listing rows, and the share image and social meta.

The layout on a phone is measured in Chromium (tests/test_browser.py); here the
built pages are read with BeautifulSoup."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

import pelicanconf
from tests.content_index import header, sources, thread_replies
from tests.sitebuild import CONTENT, SITEURL, build, copy_content

SOURCES = sources()
ARTICLES = [s for s in SOURCES if s.kind != "page"]
BY_URL = {f"{SITEURL}{s.url}": s for s in ARTICLES}
VERB = {"question": "asked", "discussion": "started", "post": "posted"}

PRIMARY = ["Questions", "Ask", "Topics", "Search"]
MORE = ["Latest posts and threads", "Recently active", "Unanswered", "Categories", "Archives"]


def nav_links(soup) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(the first row's links, the links behind "More"), as (text, href)."""
    nav = soup.select_one('nav[aria-label="Main"]')
    primary = [(a.get_text(strip=True), a["href"]) for a in nav.select("ul.nav-primary > li > a")]
    more = [(a.get_text(strip=True), a["href"]) for a in nav.select("li.nav-more details a")]
    return primary, more


def content_pages(site) -> list[str]:
    """Every page a reader can land on (not Pagefind's files, not redirect stubs)."""
    pages = []
    for path in site.html_files():
        relative = path.relative_to(site.output).as_posix()
        if relative.startswith("pagefind/"):
            continue
        pages.append("/" + relative)
    return pages


def test_every_page_has_the_short_row_and_the_rest_behind_more(site):
    pages = content_pages(site)
    assert len(pages) > 50
    for url in pages:
        soup = site.soup(url)
        primary, more = nav_links(soup)
        assert [text for text, _ in primary] == PRIMARY, url
        assert [text for text, _ in more] == [*MORE, "About"], url
        # "More" is a native disclosure: it opens without JavaScript.
        summary = soup.select_one('nav[aria-label="Main"] li.nav-more > details > summary')
        assert summary.get_text(strip=True) == "More"
        assert not soup.select_one('nav[aria-label="Main"] details[open]')
        for _text, href in primary + more:
            assert site.path(href).is_file(), (url, href)
    primary, more = nav_links(site.soup("/"))
    assert dict(primary) == {
        "Questions": f"{SITEURL}/questions/",
        "Ask": f"{SITEURL}/ask/",
        "Topics": f"{SITEURL}/topics/",
        "Search": f"{SITEURL}/search/",
    }
    assert dict(more)["Recently active"] == f"{SITEURL}/questions/active/"
    assert dict(more)["Unanswered"] == f"{SITEURL}/questions/unanswered/"


def test_the_current_page_is_marked_and_more_says_it_holds_it(site):
    topics = site.soup("/topics/").select_one('nav[aria-label="Main"]')
    assert [a.get_text() for a in topics.select('a[aria-current="page"]')] == ["Topics"]
    assert not topics.select_one("summary.holds-current")
    categories = site.soup("/categories/").select_one('nav[aria-label="Main"]')
    assert [a.get_text() for a in categories.select('a[aria-current="page"]')] == ["Categories"]
    assert categories.select_one("summary.holds-current")  # shown bold while closed
    about = site.soup("/about/").select_one('nav[aria-label="Main"]')
    assert [a.get_text() for a in about.select('a[aria-current="page"]')] == ["About"]


def test_tags_are_out_of_the_navigation_and_off_item_pages(site):
    for url in content_pages(site):
        nav = site.soup(url).select_one('nav[aria-label="Main"]')
        assert not [a for a in nav.select("a") if "/tag" in a["href"]], url
    for source in ARTICLES:
        entry = site.soup(source.url).select_one("article.entry")
        assert not [a for a in entry.select("a") if "/tag/" in a["href"]], source.path.name


def test_tags_stay_as_keywords_and_their_pages_stay_reachable(site):
    for source in ARTICLES:
        tags = [t.strip() for t in source.fields["tags"].split(",")]
        data = site.main_jsonld(source.url)
        assert data.get("mainEntity", data)["keywords"] == tags, source.path.name
    hub = site.soup("/topics/")
    assert f"{SITEURL}/tags/" in [a["href"] for a in hub.select("main a")]
    tags = site.soup("/tags/")
    assert f"{SITEURL}/topics/" in [a["href"] for a in tags.select("main a")]
    # Old links to a tag page keep working.
    assert site.soup("/tag/negotiation/").select("li.item")


@pytest.fixture(scope="module")
def own_ask(tmp_path_factory):
    """The demo site with the readers plugin's Ask page turned off (`ASK_SAVE_AS = ""`)
    and an "Ask a question" page of the owner's own (slug `ask`) instead."""
    root = tmp_path_factory.mktemp("ask")
    content = copy_content(root / "content")
    (content / "pages" / "ask.md").write_text(
        "Title: Ask a question\nSlug: ask\n\nWrite your question here.\n", encoding="utf-8"
    )
    return build(root / "output", content=content, ASK_SAVE_AS="")


def test_ask_is_second_in_the_first_row_and_marked_on_its_own_page(site, own_ask):
    for built in (site, own_ask):
        assert built.messages == []
        for url in ("/", "/2026/is-the-mlis-worth-it/", "/about/", "/ask/"):
            primary, more = nav_links(built.soup(url))
            assert [text for text, _ in primary] == ["Questions", "Ask", "Topics", "Search"]
            assert dict(primary)["Ask"] == f"{SITEURL}/ask/"
            assert "Ask a question" not in dict(more)  # not twice
        nav = built.soup("/ask/").select_one('nav[aria-label="Main"]')
        assert [a.get_text() for a in nav.select('a[aria-current="page"]')] == ["Ask"]


def test_without_an_ask_page_there_is_no_ask_link(tmp_path):
    built = build(tmp_path / "output", content=copy_content(tmp_path / "content"), ASK_SAVE_AS="")
    assert "Ask" not in dict(nav_links(built.soup("/"))[0])
    assert not built.path("/ask/").exists()


def test_a_hidden_ask_page_is_still_linked(tmp_path):
    content = copy_content(tmp_path / "content")
    (content / "pages" / "ask.md").write_text(
        "Title: Ask a question\nSlug: ask\nStatus: hidden\n\nWrite your question here.\n",
        encoding="utf-8",
    )
    built = build(tmp_path / "output", content=content, ASK_SAVE_AS="")
    primary, _more = nav_links(built.soup("/"))
    assert dict(primary)["Ask"] == f"{SITEURL}/ask/" and built.path("/ask/").is_file()


def listing_pages(site) -> list[str]:
    """Every listing page with item rows: home, question lists, topics, categories,
    each across its numbered pages."""
    firsts = ["/", "/questions/", "/questions/active/", "/questions/unanswered/"]
    firsts += [a["href"] for a in site.soup("/topics/").select("dl.topic-index dt a")]
    firsts += [a["href"] for a in site.soup("/categories/").select("dl.category-index dt a")]
    pages = []
    for url in firsts:
        while url and url not in pages:
            pages.append(url)
            nxt = site.soup(url).select_one('a[rel="next"]')
            url = nxt["href"] if nxt else None
    return pages


def newest_reply(source) -> str | None:
    """The newest published reply's date, from the thread file and its comment files."""
    replies = thread_replies(source.path)
    replies += [header(f) for f in sorted((CONTENT / "comments" / source.slug).glob("*.md"))]
    dates = [r["date"] for r in replies if r.get("moderation", "published") == "published"]
    return max(dates) if dates else None


def test_listing_rows_label_their_dates_and_name_the_asker(site):
    rows = 0
    for url in listing_pages(site):
        for li in site.soup(url).select("li.item"):
            rows += 1
            source = BY_URL[li.select_one("h2 a")["href"]]
            started = li.select_one(".item-started")
            words = started.get_text(" ", strip=True)
            expected_name = source.fields.get("author", pelicanconf.AUTHOR)
            assert words.startswith(VERB[source.kind] + " "), (url, words)
            assert words.endswith(f" by {expected_name}"), (url, words)
            when = started.select_one("time")["datetime"]
            assert when.startswith(source.fields["date"].replace(" ", "T")), (url, when)
            last = li.select_one(".last-activity")
            if source.kind in ("question", "discussion"):
                newest = newest_reply(source)
                if newest is None:
                    assert last is None and "0 replies" in li.get_text(), url
                else:
                    assert last.get_text(" ", strip=True).startswith("last reply ")
                    stamp = last.select_one("time")["datetime"]
                    assert stamp.startswith(newest.replace(" ", "T")), (url, source.slug)
            # No unlabelled date left: every <time> in the row says what it is.
            labelled = {id(t) for t in started.select("time")}
            labelled |= {id(t) for t in li.select(".last-activity time")}
            assert {id(t) for t in li.select("time")} == labelled, url
    assert rows > 60


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", path
    return struct.unpack(">II", data[16:24])


def test_every_page_has_open_graph_and_twitter_meta_with_a_share_image(site):
    for url in content_pages(site):
        soup = site.soup(url)
        for name in ("og:title", "og:description", "og:image", "og:type", "og:site_name"):
            assert soup.select_one(f'meta[property="{name}"]')["content"].strip(), (url, name)
        assert soup.select_one('meta[name="twitter:card"]')["content"] == "summary_large_image"
        image = soup.select_one('meta[property="og:image"]')["content"]
        assert image.startswith(f"{SITEURL}/"), (url, image)
        assert site.path(image).is_file(), (url, image)
        assert soup.select_one('meta[name="twitter:image"]')["content"] == image
        if url != "/404.html":
            assert soup.select_one('meta[property="og:url"]')["content"].startswith(SITEURL)
    image = site.soup("/").select_one('meta[property="og:image"]')["content"]
    assert png_size(site.path(image)) == (1200, 630)
    soup = site.soup("/")
    assert soup.select_one('meta[property="og:image:width"]')["content"] == "1200"
    assert soup.select_one('meta[property="og:image:height"]')["content"] == "630"
    assert soup.select_one('meta[property="og:image:alt"]')["content"].startswith("Stacks")


def test_a_post_names_its_own_share_image(tmp_path):
    content = copy_content(tmp_path / "content")
    images = content / "images"
    images.mkdir(exist_ok=True)
    # A real (tiny) PNG of our own: one white pixel.
    (images / "shelf.png").write_bytes(
        bytes.fromhex(
            "89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de"
            "0000000c4944415408d763f8ffff3f0005fe02fea7d6a4f90000000049454e44ae426082"
        )
    )
    post = content / "posts" / "panel-interview-day.md"
    text = post.read_text(encoding="utf-8")
    post.write_text(text.replace("\n\n", "\nImage: images/shelf.png\n\n", 1), encoding="utf-8")
    built = build(tmp_path / "output", content=content)
    assert built.messages == []
    soup = built.soup("/2026/panel-interview-day/")
    image = soup.select_one('meta[property="og:image"]')["content"]
    assert image == f"{SITEURL}/images/shelf.png" and built.path(image).is_file()
    assert soup.select_one('meta[name="twitter:image"]')["content"] == image
    assert not soup.select_one('meta[property="og:image:width"]')  # its size is its own
    # Every other page keeps the site's picture.
    other = built.soup("/").select_one('meta[property="og:image"]')["content"]
    assert other.endswith("/theme/images/share.png")


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("images/missing.png", "names no file"),
        ("images/picture.svg", "social sites do not show SVG"),
        ("../pelicanconf.py", "not a path inside the content folder"),
        ("javascript:alert(1)", "is not a PNG, JPEG, GIF or WebP image"),
    ],
)
def test_a_share_image_that_cannot_be_used_is_reported_with_file_and_line(tmp_path, value, says):
    content = copy_content(tmp_path / "content")
    (content / "images").mkdir(exist_ok=True)
    (content / "images" / "picture.svg").write_text("<svg/>", encoding="utf-8")
    post = content / "posts" / "panel-interview-day.md"
    lines = post.read_text(encoding="utf-8").split("\n")
    lines.insert(2, f"Image: {value}")
    post.write_text("\n".join(lines), encoding="utf-8")
    built = build(tmp_path / "output", content=content)
    [message] = built.messages
    assert f"panel-interview-day.md:3: Image: {value!r}" in message and says in message
    assert "images/my-picture.png" in message  # and how to fix it
    soup = built.soup("/2026/panel-interview-day/")  # the page still gets the site's picture
    assert soup.select_one('meta[property="og:image"]')["content"].endswith("/share.png")


def test_an_items_own_page_labels_its_date_the_same_way(site):
    for source in ARTICLES:
        byline = site.soup(source.url).select_one("article.entry .byline")
        words = byline.get_text(" ", strip=True)
        assert words.startswith(VERB[source.kind].capitalize() + " "), (source.slug, words)
        assert byline.time["datetime"].startswith(source.fields["date"].replace(" ", "T"))
