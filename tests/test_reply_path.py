"""A reply path on every post and thread: one "Leave a reply" link for the item itself,
whatever its number of replies, on pages where the owner turns comments on, and none
where `Comments: off` closes an item. The link's token is the one the e-mail importer
reads: a message sent through it lands as a pending comment on that item."""

from __future__ import annotations

from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from tests.content_index import sources
from tests.sitebuild import build, copy_content, run_tool

ITEMS = [s for s in sources() if s.kind != "page"]


def subject_of(link) -> str:
    return parse_qs(urlsplit(link["href"]).query)["subject"][0]


@pytest.mark.parametrize("source", ITEMS, ids=lambda s: s.slug)
def test_every_post_and_thread_has_exactly_one_leave_reply_link(site, source):
    soup = site.soup(source.url)
    [link] = soup.select("a.leave-reply")
    assert link["href"].startswith("mailto:replies@stacks-and-offers.example.org?")
    assert subject_of(link).endswith(f"[reply-to: {source.slug}]")
    # Replies keep their own "Reply" links, each naming its reply.
    for reply in soup.select("li.reply:not(.reply-removed)"):
        own = reply.select_one(":scope > article a.reply-link")
        assert own is not None and "leave-reply" not in own["class"]
        assert subject_of(own).endswith(f"[reply-to: {source.slug}#{reply['id'][6:]}]")


def test_a_post_nobody_has_answered_still_offers_a_reply(site):
    soup = site.soup("/2026/burnout-and-the-inbox/")
    assert not soup.select("li.reply")
    section = soup.select_one("section.discussion")
    assert section.select_one("a.leave-reply") and "No replies yet" in section.get_text()


def test_pages_take_replies_only_where_turned_on(site, tmp_path):
    assert not site.soup("/about/").select("a.leave-reply")
    content = copy_content(tmp_path / "content")
    about = content / "pages" / "about.md"
    text = about.read_text(encoding="utf-8")
    about.write_text(text.replace("\n\n", "\nComments: on\n\n", 1), encoding="utf-8")
    built = build(tmp_path / "out", content=content)
    assert built.messages == []
    [link] = built.soup("/about/").select("a.leave-reply")
    assert subject_of(link).endswith("[reply-to: about]")


def test_comments_off_closes_an_item_and_a_wrong_value_is_named(tmp_path):
    content = copy_content(tmp_path / "content")
    post = content / "posts" / "negotiating-a-published-scale.md"
    post.write_text(
        post.read_text(encoding="utf-8").replace("\n\n", "\nComments: off\n\n", 1),
        encoding="utf-8",
    )
    thread = content / "threads" / "below-current-pay.md"
    lines = thread.read_text(encoding="utf-8").split("\n")
    lines.insert(2, "Comments: perhaps")
    thread.write_text("\n".join(lines), encoding="utf-8")
    built = build(tmp_path / "out", content=content)
    soup = built.soup("/2026/negotiating-a-published-scale/")
    assert soup.select("li.reply"), "the replies already there are still shown"
    assert not soup.select("a.leave-reply") and not soup.select("a.reply-link")
    assert "Replies are closed" in soup.select_one("section.discussion").get_text()
    assert built.messages == [
        f"{thread}:3: `Comments: perhaps` is neither on nor off. Write `Comments: off` to "
        "close the item to replies, `Comments: on` to open it."
    ]
    # A mistake leaves the item open, as it was.
    assert built.soup("/2026/below-current-pay/").select("a.leave-reply")


def test_a_message_sent_through_the_link_lands_on_that_item(site, tmp_path):
    link = site.soup("/2026/burnout-and-the-inbox/").select_one("a.leave-reply")
    subject = unquote(subject_of(link))
    content = copy_content(tmp_path / "content")
    message = tmp_path / "reply.eml"
    message.write_text(
        "From: Someone <someone@mail.example.com>\n"
        "To: replies@stacks-and-offers.example.org\n"
        f"Subject: {subject}\n"
        "Date: Tue, 10 Nov 2026 10:00:00 -0500\n"
        "Message-ID: <first-comment@mail.example.com>\n\n"
        "The part about muting the job alerts on weekends helped me.\n",
        encoding="utf-8",
    )
    done = run_tool("import_content.py", "email", message, "--content", content)
    assert done.returncode == 0, done.stderr
    [written] = (content / "comments" / "burnout-and-the-inbox").glob("*.md")
    text = written.read_text(encoding="utf-8")
    assert "Moderation: pending" in text and "muting the job alerts" in text
