"""Render untrusted Markdown (replies, community threads) to safe HTML.

markdown-it-py parses CommonMark in time linear in the text (Python-Markdown
can take seconds on a short reply full of nested brackets), and nh3 (Ammonia)
then keeps only an allow-list of tags and attributes. Everything a reader
wrote passes through `render_untrusted` before any page, feed or summary sees it.
"""

from __future__ import annotations

import hashlib
import html
import re
from urllib.parse import quote, urlsplit

import nh3
from markdown_it import MarkdownIt

ALLOWED_TAGS = {
    "p",
    "br",
    "hr",
    "em",
    "strong",
    "del",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "a",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
URL_SCHEMES = {"http", "https", "mailto"}
LINK_REL = "nofollow ugc noopener"

# Posts and pages imported from another platform: ordinary formatting of a
# blog post (headings, images, tables, footnotes) but nothing executable. The
# importer cleans to this list, and the build cleans their HTML to it again.
IMPORTED_TAGS = ALLOWED_TAGS | {
    "abbr",
    "b",
    "cite",
    "dd",
    "div",
    "dl",
    "dt",
    "figcaption",
    "figure",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "i",
    "img",
    "ins",
    "q",
    "s",
    "small",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "u",
}
IMPORTED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "img": {"src", "alt", "title", "width", "height"},
    "ol": {"start"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
}


def _heading_as_strong_paragraph(md: MarkdownIt) -> None:
    """A heading inside a reply would break the page outline: show it bold."""

    def heading_open(self, tokens, idx, options, env):  # noqa: ARG001 - markdown-it API
        return "<p><strong>"

    def heading_close(self, tokens, idx, options, env):  # noqa: ARG001
        return "</strong></p>\n"

    md.add_render_rule("heading_open", heading_open)
    md.add_render_rule("heading_close", heading_close)


def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": True}).enable("strikethrough")
    _heading_as_strong_paragraph(md)
    return md


_MD = _parser()


# Characters an address keeps as they are; the rest are percent-encoded. Not
# brackets, parentheses, quotes, backticks or spaces: those could end the
# address where Markdown reads it, or make it look like more than it is.
_URL_KEEP = "/:?#=&%+,;@!$~*.-_"


def clean_url(url: str) -> str:
    """An address as a link or image may carry it, or "" for none.

    http(s) and mailto addresses, and addresses within the site. The
    sanitiser's scheme check passes anything whose scheme it cannot read
    ("`javascript:...`", "<javascript:...>") as a relative address: here an
    address with no scheme may have no colon before its first `/`, `?` or `#`,
    and past the scheme and host even a colon is percent-encoded, so no part of
    an address can read as another scheme."""
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    if parts.scheme:
        if parts.scheme.lower() not in URL_SCHEMES:
            return ""
        head = f"{parts.scheme}://{parts.netloc}" if parts.netloc else f"{parts.scheme}:"
        if not url.startswith(head):
            return ""
        return head + quote(url[len(head) :], safe=_URL_KEEP.replace(":", ""))
    if ":" in re.split(r"[/?#]", url, maxsplit=1)[0]:
        return ""
    return quote(url, safe=_URL_KEEP)


# What `clean_url` gives back unchanged: most addresses, checked in one match.
_KEPT = r"[A-Za-z0-9/?#=&%+,;@!$~*._-]*"
_ALREADY_CLEAN = re.compile(
    rf"(?:https?://[A-Za-z0-9.-]+(?::[0-9]+)?(?:[/?#]{_KEPT})?|mailto:{_KEPT}|[/?#]{_KEPT})"
)


def _clean_address(element: str, attribute: str, value: str) -> str | None:  # noqa: ARG001
    """nh3's attribute filter: every href and src through `clean_url`."""
    if attribute not in ("href", "src") or _ALREADY_CLEAN.fullmatch(value):
        return value
    return clean_url(value) or None


def _clean(fragment: str, tags: set[str], attributes: dict, link_rel: str) -> str:
    return nh3.clean(
        fragment,
        tags=tags,
        attributes=attributes,
        url_schemes=URL_SCHEMES,
        link_rel=link_rel,
        strip_comments=True,
        attribute_filter=_clean_address,
    ).strip()


def sanitise(fragment: str) -> str:
    """Clean an HTML fragment down to the allow-list."""
    return _clean(fragment, ALLOWED_TAGS, ALLOWED_ATTRIBUTES, LINK_REL)


def sanitise_imported(fragment: str) -> str:
    """Clean the HTML of an imported post or page down to IMPORTED_TAGS."""
    return _clean(fragment, IMPORTED_TAGS, IMPORTED_ATTRIBUTES, "noopener")


# A line's container syntax: quote markers, list markers and the space between.
_CONTAINERS_RE = re.compile(r"^[ \t>]*(?:(?:[-*+]|\d{1,9}[.)])(?:[ \t]+|$)[ \t>]*)*")
_LEAF_BLOCKS = {"paragraph_open", "heading_open", "fence", "code_block", "html_block", "hr"}


def _lost_lines(tokens, lines: list[str]) -> list[int]:
    """Lines with text that no block holds: markdown-it stops reading a
    container nested past its limit (maxNesting) and drops what is in it."""
    deepest = max((token.level for token in tokens), default=0)
    if deepest < _MD.options["maxNesting"] - 2:
        return []
    covered = set()
    for token in tokens:
        if token.map and token.type in _LEAF_BLOCKS:
            covered.update(range(*token.map))
    return [
        n
        for n, line in enumerate(lines)
        if n not in covered and line[_CONTAINERS_RE.match(line).end() :].strip()
    ]


# What makes a text more than paragraphs of prose to CommonMark: a character
# that marks something up (emphasis, code, links, HTML, entities, escapes and
# strikethrough; `#`, `|`, `{` and `}` too, which mark nothing up inside a line
# here, out of caution), a control character or any space but " " and the
# newline, or a line that starts with anything but a letter, a quote or a
# parenthesis (a list, heading, quote, rule, indented code...).
_MARKUP_RE = re.compile(
    r"[\\`*_\[\]<>&#~|{}\x00-\x09\x0b-\x1f\x7f-\x9f\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]"
    r"|^(?![^\W\d_]|[\"'(]|$)",
    re.MULTILINE,
)


def _prose_html(text: str) -> str | None:
    """markdown-it's HTML for a text that is only paragraphs of prose, made
    without parsing it (most replies are: the parser was a third of the time it
    takes to build a thread); None for any other text."""
    if _MARKUP_RE.search(text):
        return None
    html_text = []
    paragraph: list[str] = []
    for line in [*text.split("\n"), ""]:
        if line:
            paragraph.append(line)
            continue
        if not paragraph:
            continue
        html_text.append("<p>")
        for n, written in enumerate(paragraph):
            kept = written.rstrip(" ")
            html_text.append(kept.replace('"', "&quot;"))
            if n + 1 < len(paragraph):  # two spaces at a line's end break it
                html_text.append("<br />\n" if len(written) - len(kept) >= 2 else "\n")
        html_text.append("</p>\n")
        paragraph = []
    return "".join(html_text)


def render_untrusted(markdown_text: str) -> str:
    """Markdown written by a reader -> sanitised HTML.

    Quotes and lists nested past the parser's limit would lose their text:
    such lines are taken out of their containers (flattened) and kept."""
    prose = _prose_html(markdown_text)
    if prose is not None:
        return sanitise(prose)
    for _attempt in range(3):
        tokens = _MD.parse(markdown_text)
        lines = markdown_text.split("\n")
        lost = set(_lost_lines(tokens, lines))
        if not lost:
            return sanitise(_MD.renderer.render(tokens, _MD.options, {}))
        out = []
        for n, line in enumerate(lines):
            if n in lost:
                text = line[_CONTAINERS_RE.match(line).end() :]
                out.extend(["", text.strip(), ""] if n - 1 not in lost else [text.strip()])
            else:
                out.append(line)
        markdown_text = "\n".join(out)
    # Still nested too deep: every line as plain text.
    return "\n".join(
        f"<p>{html.escape(line[_CONTAINERS_RE.match(line).end() :].strip())}</p>"
        for line in markdown_text.split("\n")
        if line.strip()
    )


_TAG_RE = re.compile(r"<[^>]*>")


def plain_text(clean_html: str) -> str:
    """Text of an already-sanitised fragment (for JSON-LD and summaries): tags
    become spaces, each run of whitespace one space. (`str.split` finds the
    runs `\\s+` finds, in a third of the time: every reply's text is in its
    thread's JSON-LD.)"""
    return html.unescape(" ".join(_TAG_RE.sub(" ", clean_html).split())).strip()


_SAFE_URL_RE = re.compile(r"^https?://[^\s\x00-\x1f\x7f<>\"'`]+$", re.IGNORECASE)


def safe_link(url: str | None) -> str:
    """The URL if it is a plain http(s) address with a real host, else "".

    Never a javascript: or data: link, and nothing that only starts like one.
    """
    url = (url or "").strip()
    if not _SAFE_URL_RE.match(url):
        return ""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        return ""
    host = parts.hostname or ""
    return url if re.fullmatch(r"[a-z0-9.-]+", host) and "." in host else ""


# What may stand in a redirect map: a web server's configuration reads these
# (nginx `include`s the map), so only plain characters, never a space, quote,
# `;`, `{`, `}`, `$`, `#` or backslash.
_PLAIN = r"[A-Za-z0-9._~%/+,:@!-]*"
_PLAIN_PATH = re.compile(rf"/{_PLAIN}(?:\?[A-Za-z0-9._~%/+,:@!=&-]*)?")
_PLAIN_URL = re.compile(rf"https?://[A-Za-z0-9.-]+(?::[0-9]{{1,5}})?(?:{_PLAIN_PATH.pattern})?")


def plain_address(address: str) -> bool:
    """Is it a path (with a query) or an http(s) URL of plain characters only?

    What a redirect map (`_redirects`, nginx's map) may carry as an address."""
    return bool(_PLAIN_PATH.fullmatch(address) or _PLAIN_URL.fullmatch(address))


def excerpt(text: str, words: int = 40) -> str:
    parts = text.split()
    return " ".join(parts[:words]) + (" …" if len(parts) > words else "")


def initials(name: str) -> str:
    """Up to two letters for a text avatar (no request to another host)."""
    letters = [w[0] for w in re.findall(r"\w+", name)]
    if not letters:
        return "?"
    return (letters[0] + (letters[-1] if len(letters) > 1 else "")).upper()


def avatar_hue(name: str, salt: str) -> int:
    """A stable colour per name; salted so it cannot be looked up elsewhere."""
    digest = hashlib.sha256(f"{salt}\x00{name}".encode()).digest()
    return int.from_bytes(digest[:2], "big") % 360
