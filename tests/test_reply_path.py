"""A reply path on every post and thread: one "Leave a reply" link for the item itself,
whatever its number of replies, on pages where the owner turns comments on, and none
where `Comments: off` closes an item. The link's token is the one the e-mail importer
reads: a message sent through it lands as a pending comment on that item."""

from __future__ import annotations

from types import SimpleNamespace
from urllib.parse import parse_qs, quote, unquote, urlsplit

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from pelican.plugins.threads import plugin as threads

from tests.content_index import sources
from tests.sitebuild import build, copy_content, run_tool

ITEMS = [s for s in sources() if s.kind != "page"]


def subject_of(link) -> str:
    return parse_qs(urlsplit(link["href"]).query)["subject"][0]


# Any text, lone surrogates included (they have no UTF-8: quoting fails on them).
ANY_TEXT = st.text(alphabet=st.characters(exclude_categories=()))


@given(title=ANY_TEXT, slug=ANY_TEXT, reply_id=st.one_of(st.none(), ANY_TEXT))
@example(title="Café & “offers” 100% / 50?", slug="cafe", reply_id="r1")
@example(title="", slug="", reply_id=None)
@example(title="a\ud800", slug="s", reply_id="r1")
def test_a_mailto_subject_quoted_in_two_parts_is_the_whole_subject_quoted(title, slug, reply_id):
    """The filters quote the part of a subject every reply of an item shares once
    (threads._mailto); the link is what quoting the whole subject gives, and reads
    back as the subject the e-mail importer and `make takedown` take (written out
    here, not taken from the plugin's own functions)."""
    generator = SimpleNamespace(
        settings={"THREADS_REPLY_EMAIL": "r@x.test", "THREADS_REMOVAL_EMAIL": "d@x.test"},
        env=SimpleNamespace(filters={}),
    )
    threads.add_filters(generator)
    item = SimpleNamespace(title=title, slug=slug)
    reply = SimpleNamespace(id=reply_id) if reply_id is not None else None
    end = f"#{reply_id}]" if reply_id else "]"
    for name, address, subject in (
        ("reply_mailto", "r@x.test", f"Re: {title} [reply-to: {slug}{end}"),
        ("removal_mailto", "d@x.test", f"Removal request: {title} [remove: {slug}{end}"),
    ):
        try:
            expected = f"mailto:{address}?subject={quote(subject, safe='/')}"
        except UnicodeEncodeError:  # a lone surrogate: no UTF-8, either way
            with pytest.raises(UnicodeEncodeError):
                generator.env.filters[name](item, reply)
            continue
        link = generator.env.filters[name](item, reply)
        assert link == expected
        assert unquote(link.split("?subject=", 1)[1]) == subject


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


def _sent_and_imported(tmp_path, subject: str, message_id: str, body: str, slug: str) -> str:
    """An e-mail with `subject` sent to the replies address and imported by
    `make import SOURCE=email` into a copy of the content: the one comment
    file it wrote for `slug`, as text."""
    content = copy_content(tmp_path / "content")
    message = tmp_path / "reply.eml"
    message.write_text(
        "From: Someone <someone@mail.example.com>\n"
        "To: replies@stacks-and-offers.example.org\n"
        f"Subject: {subject}\n"
        "Date: Tue, 10 Nov 2026 10:00:00 -0500\n"
        f"Message-ID: <{message_id}@mail.example.com>\n\n"
        f"{body}\n",
        encoding="utf-8",
    )
    done = run_tool("import_content.py", "email", message, "--content", content)
    assert done.returncode == 0, done.stderr
    [written] = (content / "comments" / slug).glob("*.md")
    return written.read_text(encoding="utf-8")


def test_a_message_sent_through_a_replys_own_link_answers_that_reply(site, tmp_path):
    """A reply's "Reply" link (its subject quoted in two parts, threads._mailto),
    taken from the built page and sent, is imported as an answer to that reply."""
    soup = site.soup("/2026/what-finally-got-you-hired/")
    reply = soup.select("li.reply:not(.reply-removed)")[1]
    link = reply.select_one(":scope > article a.reply-link")
    subject = unquote(subject_of(link))
    assert subject.startswith("Re: Open thread: what finally got you hired? [reply-to: ")
    text = _sent_and_imported(
        tmp_path,
        subject,
        "answer-to-a-reply",
        "Same here: the second interview was the one that counted.",
        "what-finally-got-you-hired",
    )
    assert f"Parent: {reply['id'].removeprefix('reply-')}" in text
    assert "Moderation: pending" in text


def test_a_message_sent_through_the_link_lands_on_that_item(site, tmp_path):
    link = site.soup("/2026/burnout-and-the-inbox/").select_one("a.leave-reply")
    subject = unquote(subject_of(link))
    text = _sent_and_imported(
        tmp_path,
        subject,
        "first-comment",
        "The part about muting the job alerts on weekends helped me.",
        "burnout-and-the-inbox",
    )
    assert "Moderation: pending" in text and "muting the job alerts" in text
