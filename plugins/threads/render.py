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
from urllib.parse import urlsplit

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


def sanitise(fragment: str) -> str:
    """Clean an HTML fragment down to the allow-list."""
    return nh3.clean(
        fragment,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel=LINK_REL,
        strip_comments=True,
    ).strip()


def render_untrusted(markdown_text: str) -> str:
    """Markdown written by a reader -> sanitised HTML."""
    return sanitise(_MD.render(markdown_text))


_TAG_RE = re.compile(r"<[^>]*>")
_SPACE_RE = re.compile(r"\s+")


def plain_text(clean_html: str) -> str:
    """Text of an already-sanitised fragment (for JSON-LD and summaries)."""
    return html.unescape(_SPACE_RE.sub(" ", _TAG_RE.sub(" ", clean_html))).strip()


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
