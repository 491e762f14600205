"""Threads and comments on the built demo site, as a reader and a crawler see them."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import feedparser
import pytest

import pelicanconf
from tests.content_index import comment_files, sources, thread_replies
from tests.sitebuild import SITEURL, build, copy_content, theme_script

THREADS = [s for s in sources() if s.kind in ("question", "discussion")]
POSTS = [s for s in sources() if s.kind == "post"]


def visible_source_replies(source) -> list[dict[str, str]]:
    """Replies in the source that a reader should see (not pending, not removed)."""
    replies = thread_replies(source.path) if source.kind != "post" else []
    replies += comment_files(source.slug)
    shown = [r for r in replies if r.get("moderation", "published") == "published"]
    return shown


def count_jsonld_replies(node: dict) -> int:
    count, stack = 0, [node]
    while stack:
        current = stack.pop()
        for key in ("comment", "suggestedAnswer", "acceptedAnswer"):
            value = current.get(key)
            children = value if isinstance(value, list) else [value] if value else []
            count += len(children)
            stack.extend(children)
    return count


@pytest.mark.parametrize("source", THREADS + POSTS, ids=lambda s: s.slug)
def test_every_reply_in_the_source_is_on_a_page_with_a_unique_permalink(site, source):
    expected = visible_source_replies(source)
    nodes = site.reply_elements(source.url)
    # The quicker reading the size tests use finds the same, in the same order.
    assert site.reply_ids(source.url) == [n["id"].removeprefix("reply-") for n in nodes]
    shown = {n["id"] for n in nodes if "reply-removed" not in n["class"]}
    assert shown == {f"reply-{r['id']}" for r in expected}
    for node in nodes:  # one visible permalink per reply, pointing at itself
        if "reply-removed" in node["class"]:
            continue
        link = node.select_one(":scope > article a.permalink")
        assert link["href"] == f"#{node['id']}"


def test_reply_ids_read_what_beautifulsoup_reads_across_numbered_pages(demo_build):
    """`reply_ids` (the size tests' quicker reading) against `reply_elements`
    where replies run over numbered pages (two top-level replies a page)."""
    site = demo_build(THREADS_PAGE_SIZE=2)
    paged = 0
    for source in THREADS + POSTS:
        nodes = site.reply_elements(source.url)
        assert site.reply_ids(source.url) == [n["id"].removeprefix("reply-") for n in nodes]
        paged += site.path(source.url).read_text(encoding="utf-8").count('rel="next"') > 0
    assert paged >= 3  # the numbered pages were followed, not just the first


def test_replies_nest_in_the_dom_as_in_the_source(site):
    soup = site.soup("/2026/other-offer-fell-through/")
    for child, parent in [("halvard-2", "wren-1"), ("wren-1", "halvard"), ("okon", "wren-3")]:
        element = soup.select_one(f"#reply-{child}")
        assert element.find_parent("li", class_="reply")["id"] == f"reply-{parent}"
    top = [li["id"] for li in soup.select("section.discussion > ol.replies > li.reply")]
    assert top == ["reply-halvard", "reply-june", "reply-wren-3", "reply-wren-4"]


def test_collapse_uses_details_and_links_stay_outside_summary(site):
    soup = site.soup("/2026/other-offer-fell-through/")
    details = soup.select("li.reply > details.subreplies")
    assert details and all(d.has_attr("open") for d in details)
    assert all(not s.find("a") for s in soup.select("summary"))


def test_op_and_accepted_badges_and_the_accepted_answer_after_the_question(site):
    soup = site.soup("/2026/other-offer-fell-through/")
    op_replies = {
        li["id"] for li in soup.select("li.reply") if li.select_one(":scope > article .badge.op")
    }
    assert op_replies == {"reply-wren-1", "reply-wren-2", "reply-wren-3", "reply-wren-4"}
    accepted = soup.select("li.reply > article .badge.accepted")
    assert [b.find_parent("li")["id"] for b in accepted] == ["reply-halvard"]
    aside = soup.select_one("aside.accepted-answer")
    assert aside.find_previous_sibling("article").select_one("h1")
    assert aside.select_one("a")["href"].endswith("/2026/other-offer-fell-through/#reply-halvard")


def test_the_accepted_answer_is_shown_in_full_once_first_and_the_thread_links_to_it(site):
    soup = site.soup("/2026/other-offer-fell-through/")
    answer = site.main_jsonld("/2026/other-offer-fell-through/")["mainEntity"]["acceptedAnswer"]
    words = " ".join(answer["text"].split())[:60]
    shown = [
        body for body in soup.select(".reply-body") if words in " ".join(body.get_text().split())
    ]
    assert len(shown) == 1 and shown[0].find_parent("aside", id="accepted")
    stub = soup.select_one("#reply-halvard > article .accepted-stub a")
    assert stub["href"] == "#accepted"
    # Its replies stay in the thread, under it.
    assert soup.select("#reply-halvard li.reply")


def test_the_askers_follow_ups_are_marked_and_answers_counted_beside_replies(site):
    soup = site.soup("/2026/other-offer-fell-through/")
    followups = {
        li["id"] for li in soup.select("li.reply") if li.select_one(":scope > article .followup")
    }
    assert followups == {"reply-wren-1", "reply-wren-2", "reply-wren-3", "reply-wren-4"}
    source = next(s for s in THREADS if s.slug == "other-offer-fell-through")
    replies = visible_source_replies(source)
    answers = [r for r in replies if "parent" not in r and r["author"] != source.fields["author"]]
    status = soup.select_one(".item-meta").get_text(" ", strip=True)
    assert f"{len(replies)} replies" in status and f"{len(answers)} answer" in status
    assert len(answers) != len(replies)
    # A discussion has no answers to count.
    discussion = next(s for s in THREADS if s.kind == "discussion")
    assert not site.soup(discussion.url).select("article.entry .item-meta .answer-count")


@pytest.mark.parametrize("source", THREADS, ids=lambda s: s.slug)
def test_thread_jsonld_counts_equal_the_source(site, source):
    data = site.main_jsonld(source.url)
    replies = visible_source_replies(source)
    asker = source.fields["author"]
    answers = [r for r in replies if "parent" not in r and r["author"] != asker]
    if source.kind == "question" and answers:
        assert data["@type"] == "QAPage"
        question = data["mainEntity"]
        assert question["answerCount"] == len(answers)
        assert question["name"] == source.title and question["text"]
        assert question["author"]["name"] == asker
        assert question["datePublished"].startswith(source.fields["date"][:10])
        accepted = [r for r in replies if r.get("accepted") == "yes"]
        if accepted:
            assert question["acceptedAnswer"]["url"].endswith(f"#reply-{accepted[0]['id']}")
        for answer in [*question.get("suggestedAnswer", []), question.get("acceptedAnswer")]:
            if answer:
                assert answer["@type"] == "Answer"
                assert {"text", "author", "datePublished", "url"} <= set(answer)
        root = question
    else:
        # A discussion, or a question nobody has answered yet (no QAPage without an answer).
        assert data["@type"] == "DiscussionForumPosting"
        root = data
    assert count_jsonld_replies(root) == len(replies)


def test_an_unanswered_question_is_no_qapage(site):
    unanswered = [s for s in THREADS if s.kind == "question" and not any(
        "parent" not in r and r["author"] != s.fields["author"] for r in visible_source_replies(s)
    )]  # fmt: skip
    assert unanswered, "the demo content has an unanswered question"
    for source in unanswered:
        data = site.main_jsonld(source.url)
        assert data["@type"] == "DiscussionForumPosting" and data["headline"] == source.title


def test_asker_followups_are_comments_on_the_question(site):
    data = site.main_jsonld("/2026/other-offer-fell-through/")
    comments = data["mainEntity"]["comment"]
    assert [c["author"]["name"] for c in comments] == ["wren_at_the_desk", "wren_at_the_desk"]
    assert all(c["@type"] == "Comment" for c in comments)


def test_post_with_comments_carries_its_comment_tree(site):
    data = site.main_jsonld("/2026/negotiating-a-published-scale/")
    assert data["@type"] == "BlogPosting" and data["commentCount"] == 5
    assert count_jsonld_replies(data) == 5


def test_pending_comments_are_not_rendered_anywhere(site):
    everything = "".join(p.read_text(encoding="utf-8") for p in site.output.rglob("*.*ml"))
    assert "Is it rude to ask for the presentation prompt" not in everything
    assert "Have you tried asking for feedback after each interview" not in everything


def test_removed_reply_is_a_placeholder_that_keeps_its_children(site):
    soup = site.soup("/2026/year-of-applications/")
    removed = soup.select_one("#reply-w4")
    assert "reply-removed" in removed["class"]
    assert removed.select_one(".removed").get_text(strip=True) == "[removed]"
    assert "SpamBot" not in str(removed) and "Buy followers" not in soup.get_text()
    assert removed.select_one("#reply-w5")
    data = site.main_jsonld("/2026/year-of-applications/")
    assert "SpamBot" not in str(data) and "Whatever this was" in str(data)


def test_email_addresses_from_comments_are_never_published(site):
    for path in site.output.rglob("*"):
        if path.is_file():
            assert "hana.k@example.net" not in path.read_text(encoding="utf-8", errors="ignore")


def test_continuation_pages_link_both_ways(site):
    thread = site.soup("/2026/is-the-mlis-worth-it/")
    [link] = thread.select("a.continue-thread")
    continuation = site.soup(link["href"])
    back = continuation.select_one("a.back-to-parent")
    assert back["href"] == f"{SITEURL}/2026/is-the-mlis-worth-it/#reply-b6"
    assert continuation.select_one("#reply-b7")
    assert not thread.select_one("#reply-b7")


def test_reply_feeds_list_replies_newest_first_and_are_linked(site):
    soup = site.soup("/2026/other-offer-fell-through/")
    link = soup.select_one(
        'head link[rel="alternate"][type="application/atom+xml"][title^="Replies"]'
    )
    parsed = feedparser.parse(site.path(link["href"]).read_bytes())
    assert not parsed.bozo
    assert len(parsed.entries) == 8
    dates = [e.published_parsed for e in parsed.entries]
    assert dates == sorted(dates, reverse=True)
    assert parsed.entries[0].link.endswith("#reply-wren-4")


def test_the_site_reply_feed_holds_the_newest_replies_of_every_item(site):
    zone = ZoneInfo(pelicanconf.TIMEZONE)
    every = []
    for source in sources():
        for reply in visible_source_replies(source):
            when = datetime.fromisoformat(reply["date"])
            every.append((when if when.tzinfo else when.replace(tzinfo=zone), reply["id"]))
    every.sort(reverse=True)
    count = 50  # THREADS_FEED_MAX_ITEMS
    assert len(every) > count  # so the feed is a choice among them
    site_feed = feedparser.parse((site.output / "feeds" / "replies.atom.xml").read_bytes())
    assert not site_feed.bozo
    shown = [
        (datetime(*e.published_parsed[:6], tzinfo=UTC), e.link.rsplit("#reply-", 1)[1])
        for e in site_feed.entries
    ]
    assert shown == [(when.astimezone(UTC), reply_id) for when, reply_id in every[:count]]


def test_listings_show_reply_counts_and_state(site):
    soup = site.soup("/")
    items = {li.select_one("h2 a").get_text(strip=True): li for li in soup.select("li.item")}
    unanswered = items["Has anyone moved from corporate records management into a public library?"]
    assert unanswered.select_one(".state-unanswered") and "0 replies" in unanswered.get_text()
    page2 = site.soup(soup.select_one('a[rel="next"]')["href"])
    items.update({li.select_one("h2 a").get_text(strip=True): li for li in page2.select("li.item")})
    solved = items["Do I tell the hiring director my other option fell through?"]
    assert solved.select_one(".state-solved") and "8 replies" in solved.get_text()
    last = solved.select_one(".last-activity time")["datetime"]
    assert last.startswith("2026-04-15T12:02")  # wren-4, the newest reply
    assert not unanswered.select_one(".last-activity")


DEEP_CHAIN = 1000


def test_a_thousand_deep_chain_builds_and_renders(tmp_path):
    content = copy_content(tmp_path / "content")
    replies = []
    for i in range(DEEP_CHAIN):
        parent = f"\nparent: r{i - 1}" if i else ""
        replies.append(
            f"```reply\nid: r{i}{parent}\nauthor: P{i % 7}\n"
            f"date: 2026-05-01 10:00\n```\n\nLevel {i}.\n"
        )
    (content / "threads" / "deep.md").write_text(
        "Title: Deep\nDate: 2026-05-01 09:00\nKind: discussion\nAuthor: Asker\n"
        "Category: The Search\n\nHow deep can we go?\n\n" + "\n".join(replies),
        encoding="utf-8",
    )
    site = build(tmp_path / "out", content=content)
    assert site.messages == []
    pages = sorted((site.output / "2026" / "deep" / "replies").glob("*/index.html"))
    assert len(pages) == (DEEP_CHAIN - 1) // 5
    last = site.soup(f"/2026/deep/replies/r{DEEP_CHAIN - 1 - (DEEP_CHAIN - 1) % 5}/")
    assert last.select_one(f"#reply-r{DEEP_CHAIN - 1}")
    data = site.main_jsonld("/2026/deep/")
    assert count_jsonld_replies(data) == DEEP_CHAIN


XSS = [
    "<script>alert('x1')</script>",
    "<img src=x onerror=alert('x2')>",
    "[click](javascript:alert('x3'))",
    '<a href="data:text/html;base64,PHNjcmlwdD4=">x4</a>',
    "<svg onload=alert('x5')>",
    "<iframe src=\"javascript:alert('x6')\"></iframe>",
    "![img](javascript:alert('x7'))",
    "<a href=\"jav&#x09;ascript:alert('x8')\">x8</a>",
    "<div style=\"background:url(javascript:alert('x9'))\">x9</div>",
    "\"><script>alert('x10')</script>",
]


def test_untrusted_text_is_sanitised_on_every_page_feed_and_jsonld(tmp_path):
    content = copy_content(tmp_path / "content")
    vector_lines = "\n\n".join(XSS)
    (content / "threads" / "hostile.md").write_text(
        "Title: Hostile <script>alert('title')</script>\nDate: 2026-05-02 09:00\nKind: question\n"
        "Author: <img src=x onerror=alert('author')>\nCategory: The Search\n\n"
        f"{vector_lines}\n\n"
        "```reply\nid: r1\nauthor: \"><script>alert('name')</script>\n"
        "date: 2026-05-02 10:00\n```\n\n"
        f"{vector_lines}\n",
        encoding="utf-8",
    )
    site = build(tmp_path / "out", content=content)
    from bs4 import BeautifulSoup

    checked = 0
    for path in site.output.rglob("*"):
        if path.suffix not in (".html", ".xml") or not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".xml":  # feeds carry HTML escaped: check the HTML inside
            parsed = feedparser.parse(text)
            # Atom titles are plain text, shown literally by feed readers.
            assert all(e.title_detail.type == "text/plain" for e in parsed.entries), path
            text = "".join(e.get("summary", "") for e in parsed.entries)
        soup = BeautifulSoup(text, "html.parser")
        for tag in soup.find_all(True):
            if tag.name == "script":
                assert theme_script(path, tag), (path, tag)
                continue
            assert tag.name not in ("iframe", "svg", "img", "object", "embed"), (path, tag)
            for attribute, value in tag.attrs.items():
                assert not attribute.lower().startswith("on"), (path, tag)
                joined = " ".join(value) if isinstance(value, list) else value
                assert not joined.strip().lower().startswith(("javascript:", "data:")), (path, tag)
            checked += 1
    assert checked > 1000
    page = (site.output / "2026" / "hostile-alerttitle" / "index.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(&#39;title&#39;)" in page  # shown as text, not run


def test_comment_folder_that_matches_nothing_names_the_nearest_slug(tmp_path):
    content = copy_content(tmp_path / "content")
    (content / "comments" / "is-the-mlis-worth-it-2").mkdir()
    (content / "comments" / "is-the-mlis-worth-it-2" / "a.md").write_text(
        "Author: A\nDate: 2026-01-01\n\nHi\n", encoding="utf-8"
    )
    site = build(tmp_path / "out", content=content)
    [message] = site.messages
    assert "comments/is-the-mlis-worth-it-2: 1 comment file(s) in a folder" in message
    assert "matches no post, thread or page" in message
    assert "Rename the folder to 'is-the-mlis-worth-it', the nearest slug" in message
