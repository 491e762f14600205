"""Topics on the built site: the hub, topic pages, chips, feeds, manual control."""

from __future__ import annotations

import shutil

import feedparser
from pelican.plugins.topics.vocabulary import load

from tests.content_index import sources
from tests.sitebuild import CONTENT, ROOT, SITEURL, build, copy_content

SEED_THREAD = ROOT / "tests" / "topics" / "threads" / "long-shot-fell-through.md"

VOCABULARY = load(CONTENT / "topics.toml")
ARTICLES = [s for s in sources() if s.kind != "page"]


def topic_links(soup) -> list[str]:
    return [a["href"] for a in soup.select("ul.topic-chips a.topic-chip")]


def test_topics_hub_lists_every_topic_with_description_and_counts(site):
    soup = site.soup("/topics/")
    entries = soup.select("dl.topic-index dt a")
    assert [a.get_text() for a in entries] == [t.name for t in VOCABULARY.topics.values()]
    for dt in soup.select("dl.topic-index dt"):
        slug = dt.a["href"].rstrip("/").rsplit("/", 1)[-1]
        dd = dt.find_next_sibling("dd")
        assert VOCABULARY.topics[slug].description in dd.get_text()
        page = site.soup(dt.a["href"])
        items = page.select("li.item")
        posts = sum(1 for li in items if "item-post" in li["class"])
        assert f"{posts} post" in dd.get_text()
        assert f"{len(items) - posts} thread" in dd.get_text()
    assert soup.select_one('nav a[aria-current="page"]').get_text() == "Topics"


def test_every_item_shows_chips_and_is_listed_on_each_of_its_topic_pages(site):
    tagged = 0
    for source in ARTICLES:
        links = topic_links(site.soup(source.url).select_one("article.entry"))
        for link in links:
            listed = {a["href"] for a in site.soup(link).select("li.item h2 a")}
            assert f"{SITEURL}{source.url}" in listed, (source.path.name, link)
        tagged += bool(links)
    assert tagged >= len(ARTICLES) - 2  # nearly every demo item is about something


def test_topic_pages_list_newest_first_with_thread_state(site):
    soup = site.soup("/topics/management/")
    dates = [t["datetime"] for t in soup.select("li.item .item-started time")]
    assert dates == sorted(dates, reverse=True) and len(dates) >= 2
    thread = [li for li in soup.select("li.item") if "item-question" in li["class"]]
    assert thread and thread[0].select_one(".reply-count")
    assert thread[0].select_one(".state-solved")


def test_the_demo_thread_on_the_seed_story_gets_its_topics_from_the_tagger(site):
    # The asker learns she is out of the running for one job and asks whether saying
    # so weakens her position for the other. `offers` (the offer comes in the last
    # reply) and `negotiation` are set by hand: the learned layer finds negotiation
    # unlikely there (its question only says "weaken my position when we talk
    # salary"; the leverage talk is in the replies). Rejection is the tagger's.
    source = (CONTENT / "threads" / "other-offer-fell-through.md").read_text(encoding="utf-8")
    assert "\nTopics: offers, negotiation\n" in source and "\nTopics-Exclude:" not in source
    soup = site.soup("/2026/other-offer-fell-through/")
    links = topic_links(soup.select_one("article.entry"))
    assert f"{SITEURL}/topics/negotiation/" in links and f"{SITEURL}/topics/rejection/" in links
    for wrong in ("interviews", "management", "wellbeing", "education", "relocation"):
        assert f"{SITEURL}/topics/{wrong}/" not in links


def test_the_first_seed_thread_gets_rejection_and_negotiation_and_nothing_else(tmp_path):
    """The forum thread the site was modelled on, in our own words and the thread format,
    with no `Topics:` line. Its replies digress (supervising, being unhappy where she
    lives): the question says what it is about."""
    assert "\nTopics" not in SEED_THREAD.read_text(encoding="utf-8")
    content = copy_content(tmp_path / "content")
    shutil.copy(SEED_THREAD, content / "threads" / SEED_THREAD.name)
    site = build(tmp_path / "out", content=content)
    assert site.messages == []
    soup = site.soup("/2026/long-shot-fell-through/")
    assert len(soup.select("li.reply")) == 7  # the replies were read as replies
    assert sorted(topic_links(soup.select_one("article.entry"))) == [
        f"{SITEURL}/topics/negotiation/",
        f"{SITEURL}/topics/rejection/",
    ]
    for slug in ("negotiation", "rejection"):
        listed = {a["href"] for a in site.soup(f"/topics/{slug}/").select("li.item h2 a")}
        assert f"{SITEURL}/2026/long-shot-fell-through/" in listed


def test_manual_topics_and_exclusions_win(tmp_path):
    site, links = build_with_metadata(
        tmp_path, "Topics: offers, Negotiation\nTopics-Exclude: interviews"
    )
    assert site.messages == []
    assert f"{SITEURL}/topics/offers/" in links and f"{SITEURL}/topics/negotiation/" in links
    assert f"{SITEURL}/topics/interviews/" not in links


def test_topic_feeds_parse_and_are_linked(site):
    soup = site.soup("/topics/salary/")
    link = soup.select_one('head link[rel="alternate"][title$="Salary"]')
    parsed = feedparser.parse(site.path(link["href"]).read_bytes())
    assert not parsed.bozo and parsed.entries
    listed = {a["href"] for a in soup.select("li.item h2 a")}
    assert {e.link for e in parsed.entries} == listed


def test_topic_pages_paginate(tmp_path):
    site = build(tmp_path / "out", DEFAULT_PAGINATION=1)
    soup = site.soup("/topics/salary/")
    assert len(soup.select("li.item")) == 1
    nxt = soup.select_one('a[rel="next"]')
    assert nxt and site.path(nxt["href"]).is_file()


def build_with_metadata(tmp_path, line: str):
    """The demo site, with one metadata line added to the panel interview post."""
    content = copy_content(tmp_path / "content")
    post = content / "posts" / "panel-interview-day.md"
    text = post.read_text(encoding="utf-8")
    post.write_text(
        text.replace("Slug: panel-interview-day", f"Slug: panel-interview-day\n{line}"),
        encoding="utf-8",
    )
    site = build(tmp_path / "out", content=content)
    return site, topic_links(site.soup("/2026/panel-interview-day/").select_one("article.entry"))


def test_unknown_topic_in_metadata_names_the_file_and_the_known_topics(tmp_path):
    site, links = build_with_metadata(tmp_path, "Topics: interviews, Haggling")
    [message] = site.messages
    assert "panel-interview-day.md: unknown topic 'Haggling' in `Topics:`" in message
    assert "Known topics: rejection, interviews, negotiation" in message
    assert links == [f"{SITEURL}/topics/interviews/"]


def test_autotopics_no_turns_the_tagger_off(tmp_path):
    site, links = build_with_metadata(tmp_path, "Autotopics: no")
    assert site.messages == []
    assert links == []


def test_a_broken_vocabulary_is_reported_and_the_rest_still_builds(tmp_path):
    content = copy_content(tmp_path / "content")
    (content / "topics.toml").write_text("[[topics]\n", encoding="utf-8")
    site = build(tmp_path / "out", content=content)
    [message] = site.messages
    assert "topics.toml: not valid TOML" in message
    assert (site.output / "2026" / "panel-interview-day" / "index.html").is_file()
