"""Property-based fuzzing: arbitrary and malformed input gives a result or a clear message
naming the file, never an unhandled traceback, and never a hang (hypothesis's deadline
bounds the time per input)."""

from __future__ import annotations

import json
import tempfile
from argparse import Namespace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from pelican.plugins.threads.model import build_thread, walk
from pelican.plugins.threads.parse import Problem, RawReply, parse_comment, parse_thread, safe_body
from pelican.plugins.threads.render import plain_text, render_untrusted
from pelican.plugins.topics.tagger import TemplateError, compile_template
from pelican.plugins.topics.vocabulary import VocabularyError, load

from tests.sitebuild import CONTENT
from tools.import_content import read
from tools.importers.common import ImportFailure, Result

VOCABULARY = load(CONTENT / "topics.toml")

# Lines that mean something to the thread format, mixed with anything at all.
SPECIAL = st.sampled_from(
    [
        "```reply",
        "````reply",
        "```",
        "````",
        "~~~",
        "```python",
        "id: a",
        "id: b",
        "id: a b",
        "parent: a",
        "parent: b",
        "parent: zz",
        "author: Ann",
        "author:",
        "date: 2026-01-02 10:00",
        "date: not a date",
        "accepted: yes",
        "accepted: maybe",
        "moderation: removed",
        "moderation: pending",
        "moderation: ???",
        "colour: red",
        "---",
        "# Heading",
        "> quote",
        "<!-- comment -->",
        "",
        "   ",
        "Title: T",
        "Kind: question",
        "\ufeff",
        "\x00",
        "\r",
    ]
)
LINES = st.lists(st.one_of(SPECIAL, st.text(max_size=40)), max_size=40).map("\n".join)


def check_problems(problems: list[Problem], source: str) -> None:
    for problem in problems:
        assert problem.source == source and problem.message and str(problem)


@given(st.one_of(st.text(max_size=2000), LINES))
def test_thread_parser_never_crashes(text):
    parsed = parse_thread(text, "fuzz.md")
    check_problems(parsed.problems, "fuzz.md")
    assert all(isinstance(r, RawReply) and r.id for r in parsed.replies)


@given(st.one_of(st.text(max_size=2000), LINES))
def test_comment_reader_never_crashes(text):
    reply, problems = parse_comment(text, "c/fuzz.md", default_id="fuzz")
    check_problems(problems, "c/fuzz.md")
    assert reply.id


@given(LINES)
def test_safe_body_always_keeps_the_thread_intact(body):
    text = (
        "Title: T\nDate: 2026-01-01\nKind: question\nAuthor: A\n\nQ\n\n```reply\nid: x1\n"
        "author: B\ndate: 2026-01-02\n```\n\n"
        + (safe_body(body) or "x")
        + "\n\n```reply\nid: x2\nauthor: C\ndate: 2026-01-03\n```\n\nend\n"
    )
    assert [r.id for r in parse_thread(text, "t.md").replies] == ["x1", "x2"]


def _date(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


REPLIES = st.lists(
    st.tuples(
        st.sampled_from(["a", "b", "c", "d", "e", "f"]),
        st.one_of(st.none(), st.sampled_from(["a", "b", "c", "d", "e", "f", "zz"])),
        st.sampled_from(["published", "published", "pending", "removed"]),
        st.sampled_from(["2026-01-01 10:00", "2026-01-02 10:00", "bad date", ""]),
        st.sampled_from(["Asker", "Bo", ""]),
        st.booleans(),
    ),
    max_size=30,
)


@given(REPLIES, st.sampled_from(["question", "discussion", "post"]))
def test_reply_tree_places_every_reply_or_reports_it(rows, kind):
    raws = [
        RawReply(
            id=i,
            parent=p,
            author=a,
            date=d,
            body="text",
            source="t.md",
            line=n,
            accepted=acc,
            moderation=m,
        )
        for n, (i, p, m, d, a, acc) in enumerate(rows)
    ]
    opened = datetime(2026, 1, 1, tzinfo=UTC)
    thread, problems = build_thread(
        kind, "Asker", opened, raws, _date, lambda s: (render_untrusted(s), "text")
    )
    check_problems(problems, "t.md")
    shown = walk(thread.roots)
    assert len(shown) == len({id(r) for r in shown})  # each at most once
    assert len(shown) + thread.pending == len(raws)  # and none lost
    assert sum(1 for r in shown if r.accepted) <= 1
    for reply in shown:
        assert reply.depth == (1 if reply.parent is None else reply.parent.depth + 1)
        assert reply.date >= opened - timedelta(days=1)


@given(st.text(max_size=3000))
def test_untrusted_rendering_never_crashes_and_keeps_no_script(text):
    clean = render_untrusted(text)
    assert "<script" not in clean.lower() and " on" not in clean.lower().split(">")[0]
    plain_text(clean)


@given(st.text(max_size=200))
def test_template_compiler_gives_a_phrase_or_a_clear_error(template):
    try:
        compile_template(template, "t")
    except TemplateError as exc:
        assert str(exc)


@given(st.text(max_size=3000))
def test_tagger_handles_any_text(text):
    chosen, _evidence = VOCABULARY.tag({"title": text[:100], "body": text, "replies": text})
    assert set(chosen) <= set(VOCABULARY.topics)


TOML = st.lists(
    st.one_of(
        st.sampled_from(
            [
                "[[topics]]",
                'slug = "a"',
                'name = "A"',
                'description = "d"',
                'phrases = ["x"]',
                'phrases = ["(x) y"]',
                "phrases = []",
                "[tagger]",
                "threshold = -1",
                "relative = 0.5",
                'against = ["x y"]',
                "colour = 1",
                "[tagger.fields]",
                "title = 3",
            ]
        ),
        st.text(max_size=30),
    ),
    max_size=20,
).map("\n".join)


@given(TOML)
def test_vocabulary_loader_gives_a_vocabulary_or_names_the_file(text):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "topics.toml"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        try:
            load(path)
        except VocabularyError as exc:
            assert str(path) in str(exc)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "kind",
                    "data",
                    "children",
                    "id",
                    "body",
                    "author",
                    "replies",
                    "created_utc",
                    "title",
                    "post_stream",
                    "posts",
                    "post_number",
                    "cooked",
                    "reply_to_post_number",
                    "created_at",
                    "permalink",
                ]
            ),
            inner,
            max_size=6,
        )
    ),
    max_leaves=30,
)
ARGS = Namespace(pingbacks=False, category="Imported", base_url="")


def _import(source: str, data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "export"
        path.write_bytes(data)
        content = Path(folder) / "content"
        (content / "posts").mkdir(parents=True)
        try:
            assert isinstance(read(source, path, content, ARGS), Result)
        except ImportFailure as exc:
            assert str(path) in str(exc)


@given(
    st.sampled_from(["wordpress", "disqus", "email", "reddit", "discourse"]),
    st.binary(max_size=600),
)
def test_importers_on_arbitrary_bytes(source, data):
    _import(source, data)


@given(st.sampled_from(["reddit", "discourse"]), JSON)
def test_json_importers_on_arbitrary_json(source, value):
    _import(source, json.dumps(value).encode())


XML_BITS = st.lists(
    st.sampled_from(
        [
            '<?xml version="1.0"?>',
            "<rss>",
            "</rss>",
            "<channel>",
            "</channel>",
            "<item>",
            "</item>",
            '<disqus xmlns="http://disqus.com" xmlns:dsq="http://disqus.com/disqus-internals">',
            "</disqus>",
            '<thread dsq:id="1">',
            "</thread>",
            '<post dsq:id="2">',
            "</post>",
            '<wp:comment xmlns:wp="http://wordpress.org/export/1.2/">',
            "</wp:comment>",
            "<title>t</title>",
            "<link>http://x/y</link>",
            "<createdAt>2020-01-01T00:00:00Z</createdAt>",
            "<createdAt>bad</createdAt>",
            "<isDeleted>true</isDeleted>",
            '<parent dsq:id="9"/>',
            '<wp:post_id xmlns:wp="http://wordpress.org/export/1.2/">3</wp:post_id>',
            "&amp;",
            "<",
        ]
    ),
    max_size=25,
).map("".join)


@given(st.sampled_from(["wordpress", "disqus"]), XML_BITS)
def test_xml_importers_on_xml_like_input(source, text):
    _import(source, text.encode())
