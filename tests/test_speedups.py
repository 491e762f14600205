"""Pelican's repeated work done once (plugins/speedups): same pages, same answers."""

from __future__ import annotations

import copy
import datetime
import gc
import pickle
import posixpath
import shutil
from zoneinfo import ZoneInfo

import pytest
import speedups.plugin
from bs4 import BeautifulSoup
from hypothesis import given
from hypothesis import strategies as st
from pelican.contents import Article
from pelican.generators import ArticlesGenerator
from pelican.settings import DEFAULT_CONFIG
from pelican.urlwrappers import Category, Tag
from pelican.utils import SafeDatetime, process_translations
from speedups.plugin import (
    Members,
    _archives_by_identity,
    _kept_relative_source_path,
    _plain_strftime,
    _translations_by_group,
    fewer_full_collections,
    keep_wrapper_urls,
)

from tests.sitebuild import CONTENT, PELICANCONF, SITEURL, build, build_local, copy_content


@pytest.fixture(autouse=True)
def speedups_on(monkeypatch):
    """The unit tests below call the speedups directly: as in a build that runs them
    (off, each replacement defers to Pelican's own)."""
    monkeypatch.setattr(speedups.plugin, "_active", True)


class Item:
    """Like Pelican's contents: no `==` of its own, so equal means the same object."""

    def __init__(self, name: str) -> None:
        self.name = name


def test_members_answers_in_as_a_list_of_the_same_objects_would():
    a, b, stranger = Item("a"), Item("b"), Item("a")
    members = Members([a, b])
    assert a in members and b in members
    assert stranger not in members and None not in members
    assert list(members) == [a, b] and len(members) == 2


def test_members_finds_an_item_added_after_a_first_lookup():
    a, late = Item("a"), Item("late")
    members = Members([a])
    assert late not in members
    members.append(late)
    assert late in members
    members.remove(a)
    assert a not in members


def test_members_copies_and_pickles_as_a_plain_list():
    a = Item("a")
    members = Members([a])
    assert a in members  # the lookup set exists now
    for other in (copy.copy(members), pickle.loads(pickle.dumps(members))):
        assert type(other) is list and len(other) == 1


def test_an_authors_own_url_is_kept_and_every_other_url_is_pelicans(tmp_path):
    content = copy_content(tmp_path / "content")
    (content / "posts" / "moved-here.md").write_text(
        "Title: A post with an address of its own\nDate: 2026-10-02\n"
        "Category: The Search\nTags: moving\n"
        "URL: elsewhere/moved-here/\nSave_as: elsewhere/moved-here/index.html\n\n"
        "This post lives where its author put it.\n",
        encoding="utf-8",
    )
    site = build_local(tmp_path / "out", content=content)
    assert site.path("/elsewhere/moved-here/").is_file()
    tag_page = site.soup("/tag/moving/")
    assert f"{SITEURL}/elsewhere/moved-here/" in [a["href"] for a in tag_page.select("main a")]
    # Every other item is listed at the address Pelican's own settings give it.
    home = site.soup("/")
    for a in home.select("h2.item-title a"):
        assert site.path(a["href"]).is_file(), a["href"]


def test_one_markdown_instance_carries_nothing_from_one_file_to_the_next(tmp_path):
    # Posts are read with one Python-Markdown instance, reset between files.
    # Two posts alone (no Summary, which resets the instance on its own), each
    # defining what the other only mentions: whichever is read second would
    # show the first one's abbreviation and footnote if state leaked.
    posts = tmp_path / "content" / "posts"
    posts.mkdir(parents=True)
    shutil.copy(CONTENT / "topics.toml", tmp_path / "content" / "topics.toml")
    shutil.copy(CONTENT / "topics-model.json", tmp_path / "content" / "topics-model.json")
    for slug, defines, mentions in (("first", "MLIS", "ALA"), ("second", "ALA", "MLIS")):
        (posts / f"{slug}.md").write_text(
            f"Title: The {slug} post\nDate: 2026-10-03\nCategory: The Search\nTags: {slug}\n\n"
            f"## Background\n\nAn {defines} and an {mentions}.[^{slug}]\n\n"
            f"[^{slug}]: The {slug} footnote.\n\n*[{defines}]: Spelled out in {slug}\n",
            encoding="utf-8",
        )
    site = build_local(tmp_path / "out", content=tmp_path / "content")
    assert not site.messages
    for slug, defines, _mentions in (("first", "MLIS", "ALA"), ("second", "ALA", "MLIS")):
        body = site.soup(f"/2026/the-{slug}-post/").select_one(".entry-content")
        assert [a.get_text() for a in body.select("abbr")] == [defines]
        notes = [li.get_text(" ", strip=True) for li in body.select(".footnote li")]
        assert len(notes) == 1 and f"The {slug} footnote." in notes[0]
        assert body.select_one("h2#background")  # not "background_1": ids are per file
        # Each post's own tag (JSON-LD keywords, the tag page): nothing carried over.
        assert site.main_jsonld(f"/2026/the-{slug}-post/")["keywords"] == [slug]
        listed = [a.get_text() for a in site.soup(f"/tag/{slug}/").select("li.item h2 a")]
        assert listed == [f"The {slug} post"]


def test_a_summary_that_links_within_the_site_is_worked_out_for_each_page(tmp_path):
    # Relative URLs: a link in a summary reads differently at each depth of
    # page, so that summary is not shared; a summary without one is.
    content = copy_content(tmp_path / "content")
    posts = content / "posts"
    (posts / "linker.md").write_text(
        "Title: A post that links to another\nDate: 2026-10-04\nCategory: The Search\n"
        "Tags: linking\n\nStart with [the inbox post]({filename}/posts/burnout-and-the-inbox.md), "
        "then come back.\n",
        encoding="utf-8",
    )
    (posts / "plain.md").write_text(
        "Title: A post without links\nDate: 2026-10-04\nCategory: The Search\n"
        "Tags: linking\n\nNothing here points anywhere else on the site.\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    site = build(out, content=content, settings=PELICANCONF, SITEURL="", RELATIVE_URLS=True)
    summaries = {}
    for page in ("index.html", "tag/linking/index.html"):
        soup = BeautifulSoup((out / page).read_text(encoding="utf-8"), "html.parser")
        items = {li.select_one("h2 a").get_text(strip=True): li for li in soup.select("li.item")}
        link = items["A post that links to another"].select_one(".item-summary a")["href"]
        target = posixpath.normpath(posixpath.join(posixpath.dirname(page), link))
        assert (out / target / "index.html").is_file() or (out / target).is_file(), (page, link)
        summaries[page] = str(items["A post without links"].select_one(".item-summary"))
    assert len(set(summaries.values())) == 1 and "anywhere else" in summaries["index.html"]
    assert not [r for r in site.records if r.levelname in ("ERROR", "CRITICAL")]


def test_a_wrapper_address_is_kept_only_when_it_depends_on_name_and_slug_alone():
    keep_wrapper_urls()  # as the plugin does when it is registered
    settings = {**DEFAULT_CONFIG, "TAG_URL": "tag/{slug}/", "TAG_SAVE_AS": "tag/{slug}/index.html"}
    settings |= {"CATEGORY_URL": "c/{slug}/{shelf}/", "CATEGORY_SAVE_AS": "c/{slug}.html"}
    one, two = Tag("Cover Letters", settings), Tag("Cover Letters", settings)
    assert one.url == two.url == "tag/cover-letters/"
    assert one.save_as == "tag/cover-letters/index.html" and one.page_name == "tag/cover-letters/"
    assert Tag("Offers", settings).url == "tag/offers/"
    # Another setting, same name: formatted again.
    assert Tag("Offers", {**settings, "TAG_URL": "t/{name}/"}).url == "t/Offers/"
    # A field other than name and slug: Pelican's own formatting, every time.
    first, second = Category("Jobs", settings), Category("Jobs", settings)
    first.shelf, second.shelf = "a", "b"
    assert (first.url, second.url) == ("c/jobs/a/", "c/jobs/b/")


def _articles(count: int, folder: str = "") -> list[Article]:
    """Posts over three years, some slugs shared by translations, some by two
    posts in the default language, some translations with no original."""
    settings = dict(DEFAULT_CONFIG)
    made = []
    for n in range(count):
        metadata = {
            "title": f"Post {n}",
            "slug": f"post-{n // 3 if n % 7 == 0 else n}",
            "date": SafeDatetime(2023 + n % 3, 1 + n % 12, 1 + n % 28, n % 24),
        }
        if n % 5 == 0:
            metadata["lang"] = "fr"
        if n % 11 == 0:
            metadata["translation"] = "true"
        made.append(Article(f"<p>{n}</p>", metadata, settings, source_path=f"{folder}post-{n}.md"))
    return made


def test_translations_sorted_out_by_group_match_pelicans_own(caplog):
    # Two copies of the same posts (Pelican's log filter drops a warning seen
    # before, so the copies live in different folders).
    caplog.set_level("WARNING")
    theirs_in, ours_in = _articles(300, "theirs/"), _articles(300, "ours/")
    position = {id(item): n for items in (theirs_in, ours_in) for n, item in enumerate(items)}

    def seen(result, items, warnings):
        originals, translations = result
        return (
            [position[id(x)] for x in originals],
            [position[id(x)] for x in translations],
            [[position[id(x)] for x in item.translations] for item in items],
            [message.replace("theirs/", "").replace("ours/", "") for message in warnings],
        )

    theirs = process_translations(list(theirs_in), translation_id="slug")
    their_warnings = [record.getMessage() for record in caplog.records]
    caplog.clear()
    ours = _translations_by_group(process_translations)(list(ours_in), translation_id="slug")
    our_warnings = [record.getMessage() for record in caplog.records]
    expected = seen(theirs, theirs_in, their_warnings)
    assert seen(ours, ours_in, our_warnings) == expected
    assert expected[1] and expected[3], "the sample has translations and clashing slugs"
    assert _translations_by_group(process_translations)(ours_in, None) == (ours_in, [])


def test_period_archives_found_by_identity_match_pelicans_own():
    items = _articles(200)
    dates = sorted(items, key=lambda item: item.date)
    articles = items[::2]  # the archive lists only these, in this order
    settings = dict(
        DEFAULT_CONFIG,
        YEAR_ARCHIVE_SAVE_AS="{date:%Y}/index.html",
        MONTH_ARCHIVE_SAVE_AS="{date:%Y}/{date:%m}/index.html",
        DAY_ARCHIVE_SAVE_AS="{date:%Y}/{date:%m}/{date:%d}/index.html",
    )
    build = ArticlesGenerator._build_period_archives
    build = getattr(build, "__wrapped__", build)
    theirs = build(None, dates, articles, settings)
    ours = _archives_by_identity(build)(None, dates, articles, settings)

    def seen(archives):
        return {
            granularity: [
                {
                    key: [id(x) for x in value] if isinstance(value, list) else value
                    for key, value in archive.items()
                }
                for archive in found
            ]
            for granularity, found in archives.items()
        }

    assert seen(ours) == seen(theirs)
    assert len(theirs["year"]) == 3 and len(theirs["day"]) > 50


def test_full_collections_are_made_rarer_and_nothing_else_changes():
    before = gc.get_threshold()
    try:
        gc.set_threshold(500, 7, 10)
        fewer_full_collections()
        assert gc.get_threshold() == (500, 7, 100)
        gc.set_threshold(500, 7, 1000)  # a setting already rarer is kept
        fewer_full_collections()
        assert gc.get_threshold() == (500, 7, 1000)
    finally:
        gc.set_threshold(*before)


# Formats the sites, themes and plugins in the wild use, and some that are not
# plain (Pelican's own `%-d`, directives C89 lacks, a lone `%`, text around).
FORMATS = [
    "%Y",
    "%Y-%m-%dT%H:%M:%S",
    "%z",
    "%a, %d %b %Y",
    "%B %-d, %Y",
    "%-m/%-d/%y",
    "%-d %B %Y",  # the site's DEFAULT_DATE_FORMAT
    "%-d %B %Y, %H:%M",  # THREADS_DATE_FORMAT
    "%-H%-M%-S %-%",
    "%d\x1f%-d",  # the separator of one strftime of the directives: Pelican's own way
    "%Y\x00",
    "%Z:",
    "%A %e %B",
    "%Y %",
    "week %U, day %j\n",
    "\u00fc %Y",
    "%%Y %%%m",
    "%a %A %b %B %c %d %f %G %H %I %j %m %M %p %S %U %u %V %w %W %x %X %y %Y %z %Z %%",
]
ZONES = [
    None,
    datetime.UTC,
    ZoneInfo("America/New_York"),
    ZoneInfo("Asia/Kolkata"),
    datetime.timezone(datetime.timedelta(hours=2), "\x00"),  # C's strftime stops at a NUL
    datetime.timezone(datetime.timedelta(hours=-3), "A\x1fB"),  # holds the separator
]


def _outcome(call):
    try:
        return call()
    except Exception as exc:  # the same error either way
        return type(exc)


@given(
    moment=st.datetimes(min_value=datetime.datetime(1, 1, 1)),
    zone=st.sampled_from(ZONES),
    fmt=st.sampled_from(FORMATS)
    | st.text(alphabet="%-YmdHMSzZaAbBeEQ x\n\u00fc\x1f\x00", max_size=12),
)
def test_a_date_formatted_by_one_c_strftime_reads_as_pelicans(moment, zone, fmt):
    date = SafeDatetime.fromisoformat(moment.replace(tzinfo=zone).isoformat())
    pelicans = getattr(SafeDatetime.strftime, "__wrapped__", SafeDatetime.strftime)
    plain = _plain_strftime(pelicans)
    assert _outcome(lambda: plain(date, fmt)) == _outcome(lambda: pelicans(date, fmt))


def test_a_source_path_is_kept_only_where_it_cannot_change(tmp_path, monkeypatch):
    pelicans = getattr(
        Article.get_relative_source_path, "__wrapped__", Article.get_relative_source_path
    )
    kept = _kept_relative_source_path(pelicans)
    settings = copy.deepcopy(DEFAULT_CONFIG)
    settings["PATH"] = str(tmp_path / "content")
    post = Article(
        "Text",
        {"title": "One", "date": SafeDatetime(2026, 1, 1)},
        settings=settings,
        source_path=str(tmp_path / "content" / "posts" / "one.md"),
    )
    for _ in range(2):  # worked out, then kept
        assert kept(post) == pelicans(post) == "posts/one.md"
        assert kept(post, "pages/about.md") == pelicans(post, "pages/about.md")
    settings["PATH"] = str(tmp_path)  # another PATH: another answer
    assert kept(post) == pelicans(post) == "content/posts/one.md"
    # A relative PATH makes the answer depend on the working folder: never kept.
    settings["PATH"] = "content"
    (tmp_path / "deeper" / "content").mkdir(parents=True)
    answers = []
    for folder in (tmp_path, tmp_path / "deeper"):
        monkeypatch.chdir(folder)
        assert kept(post) == pelicans(post)
        answers.append(kept(post))
    assert answers[0] != answers[1]
