"""The thread file format and the reply tree, as plain functions (no Pelican)."""

from __future__ import annotations

import html
import pickle
import re
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from pelican.plugins.threads.model import PackedThread, build_thread, lay_out, page_events, walk
from pelican.plugins.threads.parse import pack_raw, parse_comment, parse_thread, unpack_raw
from pelican.plugins.threads.plugin import newest_replies
from pelican.plugins.threads.render import _MD, _prose_html, plain_text, render_untrusted

UTC = UTC
OPENED = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def parse_date(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def render(text: str) -> tuple[str, str]:
    html = render_untrusted(text)
    return html, plain_text(html)


def reply(id_, author="Ana", parent=None, date="2026-03-01 10:00", extra="", body="Hello."):
    lines = [f"id: {id_}", f"author: {author}", f"date: {date}"]
    if parent:
        lines.append(f"parent: {parent}")
    if extra:
        lines.append(extra)
    return "```reply\n" + "\n".join(lines) + "\n```\n\n" + body + "\n\n"


def thread_text(*replies: str, kind="question", body="The question.") -> str:
    return f"Title: T\nDate: 2026-03-01 09:00\nKind: {kind}\nAuthor: Asker\n\n{body}\n\n" + "".join(
        replies
    )


def build(text: str, kind="question"):
    parsed = parse_thread(text, "t.md")
    thread, problems = build_thread(kind, "Asker", OPENED, parsed.replies, parse_date, render)
    return parsed, thread, parsed.problems + problems


def test_metadata_opening_post_and_replies_are_split():
    parsed, thread, problems = build(thread_text(reply("a"), reply("b", parent="a")))
    assert problems == []
    assert ("kind", "question", 3) in parsed.metadata
    assert parsed.body == "The question."
    assert [r.id for r in thread.replies] == ["a", "b"]
    assert thread.replies[1].parent is thread.replies[0]


@pytest.mark.parametrize(
    "tricky",
    [
        "Para\n\n---\n\nafter a rule",
        "# A heading\n\n## Another",
        "> quoted\n> ```reply\n> id: x",
        "<!-- a comment -->\ntext",
        "Setext heading\n---",
        "````markdown\n```reply\nid: fake\nauthor: X\ndate: 2026-01-01\n```\n````",
        "~~~\n```reply\n~~~",
    ],
)
def test_markdown_in_a_body_is_never_read_as_a_new_reply(tricky):
    _parsed, thread, problems = build(thread_text(reply("a", body=tricky), reply("b")))
    assert problems == []
    assert [r.id for r in thread.replies] == ["a", "b"]


def test_a_code_fence_left_open_before_a_reply_is_reported_and_the_reply_kept():
    text = thread_text(reply("a", body="```python\nprint(1)"), reply("b"))
    _parsed, thread, problems = build(text)
    assert [r.id for r in thread.replies] == ["a", "b"]
    assert [str(p) for p in problems] == [
        "t.md:14: a code fence opened here is not closed before the reply header at line 17. "
        "Close the fence with a line of 3 backticks before that header."
    ]


def test_a_tilde_fence_left_open_to_the_end_that_swallows_a_reply_is_reported():
    text = thread_text(reply("a", body="~~~\nprint(1)"), reply("b"))
    _parsed, thread, problems = build(text)
    assert [r.id for r in thread.replies] == ["a"]
    assert "never closed, so the reply header(s) at line(s) 17 are read as code" in str(problems[0])


def test_crlf_bom_and_nul_are_tolerated():
    text = "\ufeff" + thread_text(reply("a", body="x\x00y")).replace("\n", "\r\n")
    _parsed, thread, problems = build(text)
    assert problems == [] and thread.replies[0].text == "xy"


def test_order_is_date_then_id_and_depth_is_unbounded_without_recursion():
    replies = [
        reply("z", date="2026-03-01 10:00"),
        reply("a", date="2026-03-01 10:00"),
        reply("m", date="2026-03-01 09:30"),
    ]
    _p, thread, _ = build(thread_text(*replies))
    assert [r.id for r in thread.roots] == ["m", "a", "z"]

    chain = [reply("r0")] + [reply(f"r{i}", parent=f"r{i - 1}") for i in range(1, 3000)]
    _p, thread, problems = build(thread_text(*chain))
    assert problems == [] and thread.replies[-1].depth == 3000


def test_counts_answers_op_and_accepted():
    text = thread_text(
        reply("a1", author="Helper", extra="accepted: yes"),
        reply("a2", author="Other"),
        reply("f1", author="Asker"),  # the asker's own follow-up is not an answer
        reply("c1", author="Asker", parent="a1"),
    )
    _p, thread, problems = build(text)
    assert problems == []
    assert thread.answer_count == 2 and thread.reply_count == 4
    assert thread.solved and thread.answered and thread.accepted.id == "a1"
    assert [r.id for r in thread.op_followups] == ["f1"]
    assert {r.id for r in thread.replies if r.is_op} == {"f1", "c1"}


def test_only_the_asker_replying_is_not_answered():
    _p, thread, _ = build(thread_text(reply("f1", author="asker")))
    assert thread.reply_count == 1 and not thread.answered and thread.answer_count == 0


def test_removed_keeps_its_children_and_pending_is_held_back():
    text = thread_text(
        reply("gone", extra="moderation: removed"),
        reply("kid", parent="gone"),
        reply("wait", extra="moderation: pending"),
        reply("under-wait", parent="wait"),
    )
    _p, thread, problems = build(text)
    ids = [r.id for r in thread.replies]
    assert ids == ["gone", "kid"]
    assert thread.replies[0].removed and thread.replies[0].html == ""
    assert thread.reply_count == 1 and thread.pending == 2
    assert [p.severity for p in problems] == ["warning"]
    assert "under-wait" in problems[0].message


@pytest.mark.parametrize(
    ("replies", "expected"),
    [
        (
            [reply("a", parent="nobody")],
            "t.md:12: reply a answers 'nobody', which is not in this thread",
        ),
        ([reply("a"), reply("a")], "reply id a is already used at t.md:8"),
        ([reply("a", parent="b"), reply("b", parent="a")], "answer each other in a circle"),
        (
            ["```reply\nid: a\ndate: 2026-03-01 10:00\n```\n\nx\n\n"],
            "t.md:8: reply a has no author",
        ),
        (["```reply\nid: a\nauthor: A\n```\n\nx\n\n"], "t.md:8: reply a has no date"),
        ([reply("a", date="next tuesday")], "t.md:11: cannot read the date 'next tuesday'"),
        ([reply("a", body="")], "t.md:8: reply a has an empty body"),
        (
            [reply("a", author="Asker", extra="accepted: yes")],
            "only a direct reply to the question",
        ),
        ([reply("a", extra="accepted: yes"), reply("b", extra="accepted: yes")], "a already is"),
        ([reply("a", extra="color: blue")], "t.md:12: unknown reply field `color`"),
        (["```reply\nid: a\nauthor: A\ndate: 2026-03-01\n\nnever closed"], "never closed"),
        ([reply("a b")], "reply id 'a b' is not valid"),
    ],
)
def test_each_input_mistake_names_file_line_and_fix(replies, expected):
    _p, _thread, problems = build(thread_text(*replies))
    text = "\n".join(str(p) for p in problems)
    assert expected in text
    assert all(p.fix for p in problems)


def test_accepted_in_a_discussion_is_an_error():
    _p, thread, problems = build(
        thread_text(reply("a", extra="accepted: yes"), kind="discussion"), kind="discussion"
    )
    assert "only question threads have accepted answers" in str(problems[0])
    assert thread.accepted is None


def test_every_reply_is_placed_even_when_its_input_is_wrong():
    text = thread_text(
        reply("a", parent="nobody"), reply("b", parent="c"), reply("c", parent="b"), reply("a")
    )
    _p, thread, problems = build(text)
    assert len(thread.replies) == 4 and len(problems) == 3
    assert all(r.parent is None for r in thread.replies if r.notes)


def test_comment_file_defaults_its_id_to_the_file_name():
    raw, problems = parse_comment(
        "Author: Bo\nDate: 2026-03-02\nModeration: pending\n\nHi", "c/x.md", default_id="x"
    )
    assert problems == [] and raw.id == "x" and raw.moderation == "pending" and raw.body == "Hi"
    _raw, problems = parse_comment(
        "Author: Bo\nDate: 2026-03-02\nModeration: maybe\n\nHi", "c/y.md", default_id="y"
    )
    assert "c/y.md:3: unknown moderation 'maybe'" in str(problems[0])


def test_pages_stop_at_max_depth_and_continue_on_their_own_page():
    chain = [reply("r1")] + [reply(f"r{i}", parent=f"r{i - 1}") for i in range(2, 15)]
    _p, thread, _ = build(thread_text(*chain))
    pages = lay_out(thread, "2026/t/", "2026/t/index.html", ("2026/t/", "2026/t/"), max_depth=6)
    assert [p.head.id if p.head else None for p in pages] == [None, "r6", "r11"]
    assert pages[1].save_as == "2026/t/replies/r6/index.html"
    shown_first = [e.reply.id for e in pages[0].events if e.kind == "open"]
    assert shown_first == ["r1", "r2", "r3", "r4", "r5", "r6"]
    assert thread.replies[6].url == "2026/t/replies/r6/#reply-r7"
    assert thread.replies[5].url == "2026/t/#reply-r6"  # a head keeps its first place
    assert all(r.url for r in walk(thread.roots))


def _reply_state(thread) -> list[tuple]:
    fields = ("id", "author", "date", "html", "depth", "accepted", "removed", "is_op")
    fields += ("is_answer", "notes", "url", "continuation_url", "initials", "hue")
    fields += ("source", "line", "origin", "origin_url", "field_lines")
    return [
        (
            *(getattr(r, name) for name in fields),
            r.parent.id if r.parent else None,
            tuple(c.id for c in r.children),
        )
        for r in thread.replies
    ]


def test_a_packed_thread_unpacks_to_the_same_replies_pages_and_counts():
    text = thread_text(
        reply("a1", author="Helper", extra="accepted: yes", body="**Yes**, tell them."),
        reply("gone", extra="moderation: removed"),
        reply("kid", parent="gone", date="2026-03-02 08:00"),
        reply("f1", author="Asker", date="2026-03-03 08:00"),
        reply("lost", parent="nowhere"),
        *[reply(f"d{i}", parent=f"d{i - 1}" if i else "a1") for i in range(12)],
    )
    _p, thread, _ = build(text)
    for r in thread.replies:
        r.initials, r.hue = r.author[:1], len(r.author)
    layout = ("t/", "t/index.html", ("t/", "t/"), 4, 2)
    pages = lay_out(thread, *layout)
    packed = pickle.loads(pickle.dumps(PackedThread(thread, layout)))  # as from a worker

    assert packed.text == "\n".join(r.text for r in thread.visible) and "tell them" in packed.text
    for name in ("reply_count", "answer_count", "answered", "solved", "last_activity", "kind"):
        assert getattr(packed, name) == getattr(thread, name), name
    assert _reply_state(packed) == _reply_state(thread)
    assert [r.id for r in packed.roots] == [r.id for r in thread.roots]
    assert [r.id for r in packed.visible] == [r.id for r in thread.visible]
    assert [r.id for r in packed.answers] == [r.id for r in thread.answers]
    assert [r.id for r in packed.op_followups] == ["f1"] and packed.accepted.id == "a1"
    assert packed.replies[0].text == ""  # the text for tagging is not kept twice
    assert len(packed.pages) == len(pages) > 2
    for mine, theirs in zip(packed.pages, pages, strict=True):
        for name in ("url", "save_as", "number", "total", "previous_url", "next_url", "modified"):
            assert getattr(mine, name) == getattr(theirs, name), name
        assert (mine.head.id if mine.head else None) == (theirs.head.id if theirs.head else None)
        events = [(e.kind, e.reply.id, e.expand, e.continues) for e in mine.events]
        assert events == [(e.kind, e.reply.id, e.expand, e.continues) for e in theirs.events]


def test_replies_as_written_travel_packed_and_come_back_equal():
    parsed = parse_thread(
        thread_text(reply("a", extra="accepted: yes"), reply("b", parent="a", body="*Hi*")), "t.md"
    )
    assert len(parsed.replies) == 2 and parsed.replies[0].field_lines
    assert unpack_raw(pack_raw(parsed.replies)) == parsed.replies
    assert pack_raw([]) == b"" and unpack_raw(b"") == []


def test_a_thread_thousands_deep_packs_and_unpacks():
    chain = [reply("r0")] + [reply(f"r{i}", parent=f"r{i - 1}") for i in range(1, 3000)]
    _p, thread, _ = build(thread_text(*chain))
    layout = ("t/", "t/index.html", ("t/", "t/"), 6, 0)
    packed = PackedThread(thread, layout)
    assert packed.replies[-1].depth == 3000 and packed.replies[-1].parent.id == "r2998"
    assert len(packed.pages) == len(lay_out(thread, *layout)) == 600


def test_the_site_feed_takes_the_newest_replies_whichever_threads_hold_them():
    def item(name, *dates):
        replies = [reply(f"{name}{n}", date=d) for n, d in enumerate(dates)]
        _p, thread, _ = build(thread_text(*replies))
        layout = (f"{name}/", f"{name}/index.html", (f"{name}/", f"{name}/"), 6, 0)
        return SimpleNamespace(name=name, thread=PackedThread(thread, layout))

    # `a` has the newest reply and two old ones; `b`'s replies come between.
    a = item("a", "2026-03-09 10:00", "2026-03-01 10:00", "2026-03-01 11:00")
    b = item("b", "2026-03-05 10:00", "2026-03-06 10:00", "2026-03-07 10:00")
    c = item("c", "2026-03-02 10:00")
    quiet = item("q")
    items = [c, quiet, b, a]
    newest = [(reply.id, owner.name) for reply, owner in newest_replies(items, 3)]
    assert newest == [("a0", "a"), ("b2", "b"), ("b1", "b")]
    everything = [(reply.id, owner.name) for reply, owner in newest_replies(items, 99)]
    assert everything == [
        ("a0", "a"), ("b2", "b"), ("b1", "b"), ("b0", "b"), ("c0", "c"), ("a2", "a"), ("a1", "a")
    ]  # fmt: skip
    assert newest_replies(items, 0) == []


def test_events_open_and_close_in_balance():
    _p, thread, _ = build(thread_text(reply("a"), reply("b", parent="a"), reply("c")))
    events = page_events(thread.roots, 6)
    assert [(e.kind, e.reply.id) for e in events] == [
        ("open", "a"),
        ("open", "b"),
        ("close", "b"),
        ("close", "a"),
        ("open", "c"),
        ("close", "c"),
    ]


def test_rendering_is_fast_on_pathological_brackets():
    # Python-Markdown takes seconds on this; markdown-it-py is linear. Bounded, not timed.
    nasty = "[" * 5000 + "a" + "](" * 5000
    html = render_untrusted(nasty)
    assert html.startswith("<p>[[[")


def test_dates_keep_their_offset():
    _p, thread, _ = build(thread_text(reply("a", date="2026-03-01T10:00:00+02:00")))
    assert thread.replies[0].date.utcoffset() == timedelta(hours=2)


@pytest.mark.parametrize(
    "body",
    [
        "```reply\nid: evil\nauthor: x\ndate: 2020-01-01\n```\nstill me",
        "```python\nnever closed",
        "~~~\n```reply\n",
        "````\n```reply\n```\n````\nafter",
        "plain text",
    ],
)
def test_safe_body_never_breaks_the_thread_around_it(body):
    from pelican.plugins.threads.parse import safe_body

    text = thread_text(reply("a", body=safe_body(body)), reply("b"))
    _parsed, thread, problems = build(text)
    assert problems == [] and [r.id for r in thread.replies] == ["a", "b"]


WHITESPACE = (
    " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u200a\u2028\u2029\u202f\u205f\u3000"
)


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [*WHITESPACE, "a", "é", "<p>", "</a>", "<br/>", "&amp;", "&nbsp;", "&#32;", "&lt", ";"]
        ),
        max_size=40,
    ).map("".join)
)
def test_plain_text_is_the_text_with_tags_and_runs_of_whitespace_made_one_space(fragment):
    """What JSON-LD and summaries carry: every tag a space, every run of whitespace
    (any Unicode whitespace, as `\\s` reads it) one space, entities decoded, ends trimmed."""
    spaced = re.sub(r"\s+", " ", re.sub(r"<[^>]*>", " ", fragment))
    assert plain_text(fragment) == html.unescape(spaced).strip()


# Replies: lines of prose, and what could make a text more than prose to
# CommonMark (markers at a line's start, inline markup, spaces of every kind).
_WORDS = st.sampled_from(["Word", "it's", '"quoted"', "(yes)", "\u00e9t\u00e9", "x", "a", "Z"])
_BETWEEN = st.sampled_from(
    [" ", " ", ", ", ". ", "! ", "? ", ": ", " - ", " 42 ", " $5 ", "/", "="]
)
_BREAKS = st.sampled_from(["\n", "\n\n", "  \n", " \n", "\n\n\n", "   \n", " \n\n"])
_MARKUP_PIECES = [
    *["*", "_", "`", "~~", "[", "]", "(x)", "<", ">", "&", "&amp;", "#", "|", "\\", "{", "}"],
    *["- ", "* ", "+ ", "1. ", "2) ", "> ", "# ", "---", "===", "```", "    ", "<b>", "\x00"],
    *[c for c in WHITESPACE if c not in " \n"],
    *[" _x_ ", "*x*", "~~x~~", "`x`", "[x](y)", "<a>", "&copy;", "\n===\n", "\n---\n", "\n= \n"],
    *["\xa0\n\n", "\n\xa0", "\u3000\n\n", "\t\n\n", "\n\t", "\x1c\n", "\\\n", " \n1. x"],
]


def _parsed_html(text: str) -> str:
    """markdown-it's HTML for `text`, before the sanitiser (what `render_untrusted` parses)."""
    return _MD.renderer.render(_MD.parse(text), _MD.options, {})


@st.composite
def _prose(draw) -> str:
    """Lines of words, with the breaks between them and spaces at their ends."""
    text = ""
    for n in range(draw(st.integers(1, 6))):
        if n:
            text += draw(_BREAKS)
        text += draw(_WORDS)
        for _ in range(draw(st.integers(0, 5))):
            text += draw(_BETWEEN) + draw(_WORDS)
    return text + draw(st.sampled_from(["", " ", "  ", "\n", "\n\n"]))


@st.composite
def _replies(draw) -> str:
    """Prose, with up to two pieces of markup put in anywhere."""
    text = draw(_prose())
    for _ in range(draw(st.integers(0, 2))):
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.sampled_from(_MARKUP_PIECES)) + text[at:]
    return text


@settings(max_examples=1500, deadline=None)
@given(_replies())
@example("a\u3000\n\nb")
@example("a\xa0")
@example("a\t\n\nb")
@example("Word _x_ b")
@example("x\n===")
@example("x\n= ")
@example("a ~~b~~")
@example("a & b")
@example("a\n1. b")
@example("a\n- b")
@example("a `b`")
@example("a\\\nb")
@example("a  \nb")
@example("a <b> c")
@example("a [b](c)")
@example("a\x00b")
@example("a\r\nb")
@example("a\x1c")
def test_a_reply_of_prose_is_rendered_as_the_parser_renders_it(text):
    """Prose (paragraphs of words) is rendered without the Markdown parser: for
    any text, that HTML must be the parser's, or the text must go to the parser."""
    prose = _prose_html(text)
    if prose is not None:
        assert prose == _parsed_html(text)


@settings(max_examples=300, deadline=None)
@given(_prose())
def test_prose_takes_the_shortcut(text):
    """Prose with quotes, apostrophes, parentheses, numbers, spaces at the lines'
    ends and paragraph breaks is what the shortcut is for: it takes it, and gives
    the parser's HTML."""
    assert _prose_html(text) == _parsed_html(text)
