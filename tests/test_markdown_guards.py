"""Python-Markdown with its inline patterns guarded (stacks_offers/markdown_guards.py)
gives the HTML Python-Markdown alone gives, on random and on real text, and the
guard does leave the work undone where a pattern cannot match."""

from __future__ import annotations

import copy
import pickle
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from markdown import Markdown
from pelican.readers import MarkdownReader
from pelican.settings import read_settings

from stacks_offers.markdown_guards import BLOCK_NEEDS, NEEDS, GuardedRegex, guard
from tests.sitebuild import CONTENT, ROOT
from tools.importers.common import html_to_markdown

GUARDS = "stacks_offers.markdown_guards"
SHARED = ROOT.parent / "shared"


def site_markdown(guarded: bool, **smarty) -> Markdown:
    """A Markdown instance as the site's build makes one (pelicanconf.py's
    MARKDOWN, completed by Pelican's reader), with or without the guards."""
    settings = read_settings(str(ROOT / "pelicanconf.py"))
    MarkdownReader(settings)  # adds each configured extension (and meta) to the list
    config = copy.deepcopy(settings["MARKDOWN"])
    assert GUARDS in config["extensions"], "the site's build no longer uses the guards"
    if not guarded:
        config["extensions"].remove(GUARDS)
        config["extension_configs"].pop(GUARDS)
    config["extension_configs"]["markdown.extensions.smarty"].update(smarty)
    return Markdown(**config)


PAIRS = {
    "site": (site_markdown(False), site_markdown(True)),
    "angled quotes": (
        site_markdown(False, smart_angled_quotes=True),
        site_markdown(True, smart_angled_quotes=True),
    ),
}


def same_html(text: str) -> None:
    for name, (stock, guarded) in PAIRS.items():
        stock.reset()
        guarded.reset()
        assert guarded.convert(text) == stock.convert(text), (name, text)


@pytest.mark.parametrize("name", PAIRS)
def test_every_inline_pattern_of_the_sites_markdown_is_guarded(name):
    """A Python-Markdown whose patterns differ from the pinned one's still
    builds the same site (an unknown pattern runs unguarded), only slower: this
    says so, so that NEEDS is brought up to date with the upgrade."""
    md = PAIRS[name][1]
    md.reset()
    md.convert("A line.")
    patterns = [
        p
        for proc in md.treeprocessors
        if hasattr(proc, "inlinePatterns")
        for p in proc.inlinePatterns
    ]
    unguarded = [
        p.compiled_re.pattern for p in patterns if not isinstance(p.compiled_re, GuardedRegex)
    ]
    assert not unguarded, f"add what each needs to NEEDS: {unguarded}"
    assert len(patterns) >= 30  # Python-Markdown's own, extra's and SmartyPants' eighteen


# Text for every pattern: what each matches, in its forms, beside what it must not.
GUARD_SAMPLES = (
    "a 'b' \"c\" -- d --- e ---- f ... g .... h [i](j) ![k](l) [m][n] [o] <p> <http://e.org> "
    "<q@r.s> *t* _u_ **v** `w` ``x`` \\` \\\\` \\y &amp; &#8211; &#x2014; [^1] [^note]  \n"
    "<<z>> the '80s '90s 1990s x'\"y x\"'y \"'a '\"b 'a\" \"a' don't it's 'tis "
    "&nbsp;'a &nbsp;\"a --'a \u2013'a \u2014\"a &mdash;'a &#8212;\"a \u0002'a \u0003\"a (\"a) {'a}",
    "'.. a",
    '".. a',
    "'",
    '"',
    "'s",
    "' a",
    '" a',
    '<!-- c --> <?p ?> <![CDATA[x]]> <b class="c"> </b> <br/>',
)


def test_each_guard_hides_no_match_of_its_pattern():
    """From every position of every sample, a guarded pattern finds what its
    expression finds: an entry of NEEDS that asks for more than every match
    holds (`'9` for the decade quote, `[^s` for a footnote) fails here."""
    for source, needs in NEEDS.items():
        regex = re.compile(source, re.DOTALL | re.UNICODE)
        guarded = GuardedRegex(regex, needs)
        found = 0
        for sample in GUARD_SAMPLES:
            for pos in range(len(sample) + 1):
                expected = [m.span() for m in regex.finditer(sample, pos)]
                assert [m.span() for m in guarded.finditer(sample, pos)] == expected, (
                    source,
                    sample,
                    pos,
                )
                found += len(expected)
        assert found, f"no sample holds a match of {source!r}: add one to GUARD_SAMPLES"


def test_each_guard_names_text_its_pattern_cannot_match_without():
    """Taken out of every sample what a pattern needs, it matches nothing: an
    entry naming text its pattern can match without fails here."""
    for source, needs in NEEDS.items():
        regex = re.compile(source, re.DOTALL | re.UNICODE)
        for sample in GUARD_SAMPLES:
            for need in needs:
                sample = sample.replace(need, " ")
            assert all(need not in sample for need in needs)
            assert not list(regex.finditer(sample)), (source, sample)


def test_a_guarded_expression_copied_or_pickled_stays_guarded():
    regex = re.compile("(?<!-)--(?!-)")
    guarded = GuardedRegex(regex, ("--",))
    for copied in (copy.copy(guarded), copy.deepcopy(guarded), pickle.loads(pickle.dumps(guarded))):
        assert isinstance(copied, GuardedRegex)
        assert copied.needs == ("--",)
        assert copied.pattern == regex.pattern
        assert [m.span() for m in copied.finditer("a -- b", 0)] == [(2, 4)]


PIECES = st.sampled_from(
    [
        *"ab cd\n\n\t'\"`-.[]()!<>*_\\&;#^:/@|{}~=+0123456789",
        "--",
        "---",
        "...",
        "'s",
        "'90s",
        "&nbsp;",
        "&#8211;",
        "–",
        "—",
        "é",
        "  \n",
        "[x]: http://e.org",
        "<b>",
        "</b>",
        "<!-- c -->",
        "[^1]",
        "[^1]: n",
        "*[HTML]: H",
        "> ",
        "- ",
        "1. ",
        "    ",
        "```",
        "~~~",
        "<<",
        ">>",
        "{: .c}",
        "http://e.org",
    ]
)
MARKDOWN_TEXT = st.lists(PIECES, max_size=80).map("".join)


@given(MARKDOWN_TEXT)
def test_random_text_converts_to_the_same_html(text):
    same_html(text)


def real_texts() -> list[tuple[str, str]]:
    """The demo content, the seeds and the real exports' post bodies, as the
    importers write them, when ../shared is here."""
    texts = [
        (str(p.relative_to(ROOT)), p.read_text(encoding="utf-8"))
        for p in sorted(CONTENT.rglob("*.md"))
    ]
    for path in sorted((SHARED / "seeds").glob("*.txt")):
        texts.append((path.name, path.read_text(encoding="utf-8")))
    for path in sorted((SHARED / "real-exports").glob("*.xml")):
        raw = path.read_text(encoding="utf-8", errors="replace")
        bodies = re.findall(r"<content:encoded><!\[CDATA\[(.*?)\]\]></content:encoded>", raw, re.S)
        for n, body in enumerate(bodies):
            if body.strip():
                texts.append((f"{path.name}#{n}", html_to_markdown(body)))
    return texts


def test_real_text_converts_to_the_same_html():
    texts = real_texts()
    assert len(texts) > 20
    for _name, text in texts:
        same_html(text)


class Recording:
    """A compiled expression that notes each search it is asked for."""

    def __init__(self, source: str) -> None:
        self.regex = re.compile(source)
        self.pattern = source
        self.searched: list[int] = []

    def finditer(self, string, pos=0):
        self.searched.append(pos)
        return self.regex.finditer(string, pos)


def test_a_guarded_pattern_runs_only_on_text_holding_what_it_needs():
    recording = Recording("(?<!-)--(?!-)")
    guarded = GuardedRegex(recording, ("--",))
    assert list(guarded.finditer("no dash here, just - one", 0)) == []
    assert list(guarded.finditer("a -- b", 4)) == []  # none from where the search starts
    assert recording.searched == []
    found = list(guarded.finditer("a -- b -- c", 3))
    assert recording.searched == [3]
    assert [m.start() for m in found] == [7]
    assert guarded.pattern == "(?<!-)--(?!-)"  # the rest is the expression's own


def test_the_site_s_markdown_guards_its_patterns_once_converting():
    md = site_markdown(True)
    md.convert("Text.")
    count = guard(md)
    assert count >= 30
    assert guard(md) == count  # nothing is wrapped twice


# Paragraph blocks for the block processors: each form, beside what must not match.
BLOCK_SAMPLES = (
    "# One\n## Two ##\nText # not\n###### Six\n####### seven\n\\# escaped",
    "Title\n=====\nOther\n---\nnot - a rule\n= no",
    "> quoted\n   > three spaces\n    > code, not a quote\na > b\n>",
    "- - -\n***\n_ _ _\n--\n* * *  \n   ---\n    ---\nsome-thing_else*",
    "Term\n: definition\n   : three\n    : four\na: b\n:no",
    "[^1]: a note\n   [^n]: b\n[^]: c\n[ ^1]: d\n[1]: e",
    "*[HTML]: Hyper Text\n*[X] : y\n*[z]\n[a]: b",
    '[id]: http://e.org "T"\n   [b]: <http://e.org>\n  (T)\n'
    "[c]:\n  http://e.org 'q'\n[d] e\n[]: f",
)


def block_expressions() -> list[tuple[str, str, object]]:
    """(processor, attribute, compiled expression) for every block expression
    BLOCK_NEEDS knows, as the site's Python-Markdown compiled it (its flags)."""
    md = site_markdown(False)
    found = []
    for processor in md.parser.blockprocessors:
        for attribute, known in BLOCK_NEEDS.items():
            regex = getattr(processor, attribute, None)
            if getattr(regex, "pattern", None) in known:
                found.append((type(processor).__name__, attribute, regex))
    return found


def test_every_block_expression_named_is_the_sites_and_is_guarded():
    """Each entry of BLOCK_NEEDS is an expression of the site's Python-Markdown
    (one a new version changed is not, and would run unguarded), and the
    guard puts each in place on the processor."""
    named = {source for known in BLOCK_NEEDS.values() for source in known}
    assert {regex.pattern for _p, _a, regex in block_expressions()} == named
    md = site_markdown(True)
    md.convert("Text.")
    guarded = [
        type(p).__name__
        for p in md.parser.blockprocessors
        for attribute in BLOCK_NEEDS
        if isinstance(getattr(p, attribute, None), GuardedRegex)
    ]
    assert len(guarded) == len(named) == 8, guarded


def test_each_block_guard_hides_no_match_of_its_expression():
    """search, match and finditer of a guarded block expression give what the
    expression gives, from every position of every sample."""
    for name, attribute, regex in block_expressions():
        guarded = GuardedRegex(regex, BLOCK_NEEDS[attribute][regex.pattern])
        found = 0
        for sample in BLOCK_SAMPLES:
            for pos in range(len(sample) + 1):
                for method in ("search", "match"):
                    expected = getattr(regex, method)(sample, pos)
                    got = getattr(guarded, method)(sample, pos)
                    assert (got and got.span()) == (expected and expected.span()), (
                        name,
                        sample,
                        pos,
                    )
                expected = [m.span() for m in regex.finditer(sample, pos)]
                assert [m.span() for m in guarded.finditer(sample, pos)] == expected
                found += len(expected)
        assert found, f"no sample holds a match of {name}'s expression: add one to BLOCK_SAMPLES"


def test_each_block_guard_names_text_its_expression_cannot_match_without():
    for name, attribute, regex in block_expressions():
        needs = BLOCK_NEEDS[attribute][regex.pattern]
        for sample in BLOCK_SAMPLES:
            while any(need in sample for need in needs):
                for need in needs:
                    sample = sample.replace(need, " ")
            assert not list(regex.finditer(sample)), (name, sample)
