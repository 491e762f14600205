"""A Python-Markdown extension: patterns skip text they cannot match.

Python-Markdown tries each inline pattern on every piece of text with a
regular expression, and most of its patterns begin with a look-behind or a
choice, which Python's regular expressions try at every character: on a post
of 4,500 characters the backtick pattern alone costs 0.5 ms, and SmartyPants'
eighteen (quotes, dashes, ellipses) cost more than the rest of the conversion
together. Python-Markdown's conversion was a sixth of the CPU time of a full
build of the benchmark's 5,000 items, SmartyPants half of that.

Each of these patterns can only match where a certain text is: a backtick, a
`[`, a straight quote, `--`, `...`. `GuardedRegex` wraps a pattern's regular
expression and finds nothing, without running it, in text holding none of
that text from where the search starts; elsewhere it is the regular expression
itself. A match found from `pos` lies at or after `pos` and holds that text,
so the guard never hides one: the HTML is what Python-Markdown alone gives
(tests/test_markdown_guards.py compares them on random and on real text).

What each pattern needs is written down below for the patterns of the pinned
Python-Markdown (requirements.txt), keyed by the regular expression's exact
source: a pattern whose source is not in `NEEDS` (another version, another
extension) runs as it is, so a Python-Markdown that changed a pattern builds
the same site, only slower. The guard is put in place when each conversion
starts (a preprocessor that changes no line), on every inline processor of
the Markdown instance, whichever extension registered it and in whatever order.

The block processors are guarded the same way (`BLOCK_NEEDS`): Python-Markdown
asks each paragraph of a post whether it is a heading, a quote, a rule, a
definition, a footnote, an abbreviation or a link reference, each with a
regular expression searched through the whole paragraph (a tenth of a full
build's Markdown time); a quote needs a `>`, a heading a `#`, and so on.

Used through `MARKDOWN`'s `extension_configs` (pelicanconf.py):
`"stacks_offers.markdown_guards": {}`.
"""

from __future__ import annotations

from markdown.extensions import Extension
from markdown.preprocessors import Preprocessor
from markdown.treeprocessors import InlineProcessor

_HTML = (
    '(<(\\/?+[a-zA-Z][^\\s"\'<>@]*+(?:\\s+[^\\s"\'=<>]++(?:\\s*+=\\s*+(?:"[^"]*+"|'
    "'[^']*+'|[^\\s\"'=<>]++))?+)*+\\s*+/?|!--(?:(?!<!--|-->).)*--|[?](?:(?!<[?]|[?]>)"
    ".)*[?]|!\\[CDATA\\[(?:(?!<!\\[CDATA\\[|\\]\\]>).)*\\]\\])>)"
)

# The source of a pattern's regular expression -> the texts one of which any
# match holds (at or after where the search starts). Python-Markdown 3.11.
NEEDS: dict[str, tuple[str, ...]] = {
    # Python-Markdown's own (inlinepatterns.py) and extra's footnotes
    "(?:(?<!\\\\)((?:\\\\{2})+)(?=`+)|(?<!\\\\)`)": ("`",),  # backtick
    "\\\\(.)": ("\\",),  # escape
    "\\[\\^([^\\]]*)\\]": ("[^",),  # footnote
    "(?<!\\!)\\[": ("[",),  # reference, link, short_reference
    "\\!\\[": ("![",),  # image_link, image_reference, short_image_ref
    "<([A-Za-z][A-Za-z0-9+.-]*://[^<>]*)>": ("<",),  # autolink
    "<([^<> !]+@[^@<> ]+)>": ("<",),  # automail
    "  \\n": ("  \n",),  # linebreak
    _HTML: ("<",),  # html
    _HTML + "(?!\\>)": ("<",),  # html, with SmartyPants' smart_angled_quotes
    "(&(?:\\#[0-9]+|\\#x[0-9a-fA-F]+|[a-zA-Z0-9]+);)": ("&",),  # entity
    "\\*|_": ("*", "_"),  # em_strong
    # SmartyPants (extensions/smarty.py)
    "(?<!\\.)\\.{3}(?!\\.)": ("...",),  # ellipses
    "(?<!-)---(?!-)": ("---",),  # em dashes
    "(?<!-)--(?!-)": ("--",),  # en dashes
    "\\<\\<": ("<<",),  # angled quotes (smart_angled_quotes)
    "\\>\\>": (">>",),
    "^'(?=[!\"#\\$\\%'()*+,-.\\/:;<=>?\\@\\[\\\\\\]\\^_`{|}~]\\B)": ("'",),
    '^"(?=[!"#\\$\\%\'()*+,-.\\/:;<=>?\\@\\[\\\\\\]\\^_`{|}~]\\B)': ('"',),
    "\"'(?=\\w)": ("\"'",),
    "'\"(?=\\w)": ("'\"",),
    "(?<=[^\\ \\t\\r\\n\\[\\{\\(\\-\\u0002\\u0003])\\'\"": ("'\"",),
    "(?<=[^\\ \\t\\r\\n\\[\\{\\(\\-\\u0002\\u0003])\\\"'": ("\"'",),
    "(?<!\\w)'(?=\\d{2}s)": ("'",),
    "(\\s|&nbsp;|--|–|—|&[mn]dash;|&#8211;|&#8212;)'(?=\\w)": ("'",),
    "(?<=[^\\ \\t\\r\\n\\[\\{\\(\\-\\u0002\\u0003])'(?!\\s|s\\b|\\d)": ("'",),
    "'(\\s|s\\b)": ("'",),
    "'": ("'",),
    '(\\s|&nbsp;|--|–|—|&[mn]dash;|&#8211;|&#8212;)"(?=\\w)': ('"',),
    '"(?=\\s)': ('"',),
    '(?<=[^\\ \\t\\r\\n\\[\\{\\(\\-\\u0002\\u0003])"': ('"',),
    '"': ('"',),
}


# The same for the block processors' expressions (the attribute of the
# processor that holds it -> its source -> what any match holds).
BLOCK_NEEDS: dict[str, dict[str, tuple[str, ...]]] = {
    "RE": {
        # blockprocessors.py
        r"(?:^|\n)(?P<level>#{1,6})(?P<header>(?:\\.|[^\\#]|#+(?=[^#\n]))*?)#*(?:\n|$)": (
            "#",
        ),  # HashHeaderProcessor
        r"^.*?\n(?:=+|-+)[ ]*(\n|$)": ("\n=", "\n-"),  # SetextHeaderProcessor
        r"(^|\n)[ ]{0,3}>[ ]?(.*)": (">",),  # BlockQuoteProcessor
        (
            r"^[ ]{0,3}\[([^\[\]]*)\]:[ ]*(?:\n[ ]*)?([^\s]+)[ ]*(?:\n[ ]*)?"
            r"""((["\'])(.*)\4[ ]*|\((.*)\)[ ]*)?$"""
        ): ("]:",),  # ReferenceProcessor
        # extra's def_list, footnotes and abbr
        r"(^|\n)[ ]{0,3}:[ ]{1,3}(.*?)(\n|$)": (":",),  # DefListProcessor
        r"^[ ]{0,3}\[\^([^\]]*)\]:[ ]*(.*)$": ("[^",),  # FootnoteBlockProcessor
        r"^[*]\[(?P<abbr>[^\\]*?)\][ ]?:[ ]*\n?[ ]*(?P<title>.*)$": ("*[",),  # AbbrBlockprocessor
    },
    "SEARCH_RE": {
        r"^[ ]{0,3}(?=(?P<atomicgroup>(-+[ ]{0,2}){3,}|(_+[ ]{0,2}){3,}|(\*+[ ]{0,2}){3,}))"
        r"(?P=atomicgroup)[ ]*$": ("-", "_", "*"),  # HRProcessor
    },
}


class GuardedRegex:
    """A compiled regular expression whose `finditer`, `search` and `match`
    (what Python-Markdown's inline and block processors call) run only on text
    holding one of `needs` from `pos` on; every other attribute is the
    expression's own."""

    __slots__ = ("needs", "regex")

    def __init__(self, regex, needs: tuple[str, ...]) -> None:
        self.regex = regex
        self.needs = needs

    # A loop in each (no shared helper, no generator): the inline patterns' guard
    # is called for every pattern on every piece of text.
    def finditer(self, string, pos=0, *args):
        for need in self.needs:
            if string.find(need, pos) != -1:
                return self.regex.finditer(string, pos, *args)
        return iter(())

    def search(self, string, pos=0, *args):
        for need in self.needs:
            if string.find(need, pos) != -1:
                return self.regex.search(string, pos, *args)
        return None

    def match(self, string, pos=0, *args):
        for need in self.needs:
            if string.find(need, pos) != -1:
                return self.regex.match(string, pos, *args)
        return None

    def __getattr__(self, name):
        # Not its own slots before they are set (a copy being made), nor the
        # expression's copying hooks (`__deepcopy__` would give the bare one).
        if name in GuardedRegex.__slots__ or name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.regex, name)

    def __reduce__(self):  # copied or pickled, it stays guarded
        return GuardedRegex, (self.regex, self.needs)


def guard(md) -> int:
    """Guard every inline pattern of `md` that `NEEDS` knows, and every block
    processor's expression `BLOCK_NEEDS` knows; how many are guarded."""
    # (what holds an expression, the attribute it is in, what its sources need)
    places = [
        (processor, attribute, known)
        for processor in md.parser.blockprocessors
        for attribute, known in BLOCK_NEEDS.items()
    ]
    places += [
        (pattern, "compiled_re", NEEDS)
        for processor in md.treeprocessors
        if isinstance(processor, InlineProcessor)
        for pattern in processor.inlinePatterns
    ]
    guarded = 0
    for holder, attribute, known in places:
        regex = getattr(holder, attribute, None)
        if isinstance(regex, GuardedRegex):
            guarded += 1
            continue
        needs = known.get(getattr(regex, "pattern", None))
        if needs:
            # On the instance (a block processor's over its class's): others are untouched.
            setattr(holder, attribute, GuardedRegex(regex, needs))
            guarded += 1
    return guarded


class _GuardOnConvert(Preprocessor):
    """Puts the guards in place as a conversion starts, when every extension
    has registered its patterns; changes no line."""

    def run(self, lines):
        guard(self.md)
        return lines


class MarkdownGuardsExtension(Extension):
    def extendMarkdown(self, md) -> None:
        # Before every other preprocessor (Python-Markdown's highest is 30).
        md.preprocessors.register(_GuardOnConvert(md), "stacks_offers_guards", 1000)


def makeExtension(**kwargs):  # Python-Markdown's name for it
    return MarkdownGuardsExtension(**kwargs)
