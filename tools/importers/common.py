"""What every importer shares: the records they produce, and safe conversions.

Importers only read a file and return records; `writer.py` turns records into
content files. Nothing is written unless the whole input was read.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import unquote

import nh3
from markdownify import MarkdownConverter
from unidecode import unidecode

# Imported bodies may keep ordinary formatting; nothing executable survives.
BODY_TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "cite",
    "code",
    "dd",
    "del",
    "dl",
    "dt",
    "em",
    "figcaption",
    "figure",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "ins",
    "li",
    "ol",
    "p",
    "pre",
    "q",
    "s",
    "small",
    "strong",
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
    "ul",
}
BODY_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
}
URL_SCHEMES = {"http", "https", "mailto"}
BLOCK_START = re.compile(
    r"^\s*<(?:p|div|h[1-6]|ul|ol|li|blockquote|pre|table|figure|hr|dl|address|section|!--)\b",
    re.IGNORECASE,
)


class ImportFailure(Exception):
    """The input cannot be imported; the message names the file, line and problem."""


@dataclass
class Reply:
    id: str
    author: str
    date: datetime
    body: str  # Markdown
    parent: str | None = None
    moderation: str = "published"
    origin: str = ""
    message_id: str = ""


@dataclass
class Item:
    key: str  # stable identity in the source, e.g. "wordpress:post:42"
    kind: str  # post | page | thread
    title: str
    slug: str
    date: datetime
    author: str
    body: str  # Markdown
    category: str = ""
    tags: list[str] = field(default_factory=list)
    status: str = "published"  # or draft
    original_url: str = ""
    thread_kind: str = "question"  # for threads: question | discussion
    replies: list[Reply] = field(default_factory=list)


@dataclass
class Result:
    source: str
    items: list[Item] = field(default_factory=list)
    # Replies for posts or threads already in content/, by their slug.
    attach: dict[str, list[Reply]] = field(default_factory=dict)
    counts: Counter = field(default_factory=Counter)
    warnings: list[str] = field(default_factory=list)


class _Converter(MarkdownConverter):
    """markdownify, but text that looked like HTML stays text.

    markdownify turns `&lt;script&gt;` back into `<script>`, which a Markdown
    reader would then pass through as HTML. Text keeps its `<`, `>` and `&`
    escaped; code blocks are literal in Markdown and need nothing.
    """

    def escape(self, text, parent_tags):
        if "_noformat" in parent_tags or "pre" in parent_tags or "code" in parent_tags:
            return super().escape(text, parent_tags)
        # Entities, not backslashes: Python-Markdown shows "\<" with its backslash.
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        return super().escape(text, parent_tags).replace("\\&", "&")


def autop(text: str) -> str:
    """WordPress stores paragraphs as blank lines (wpautop adds the <p> on display)."""
    blocks = re.split(r"\n\s*\n", text.replace("\r\n", "\n").strip())
    out = []
    for block in blocks:
        if not block.strip():
            continue
        if BLOCK_START.match(block):
            out.append(block)
        else:
            out.append("<p>" + block.strip().replace("\n", "<br>\n") + "</p>")
    return "\n".join(out)


def html_to_markdown(fragment: str, paragraphs_from_blank_lines: bool = False) -> str:
    """Sanitise HTML to an allow-list, then write it as Markdown."""
    if paragraphs_from_blank_lines:
        fragment = autop(fragment)
    clean = nh3.clean(
        fragment,
        tags=BODY_TAGS,
        attributes=BODY_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        strip_comments=True,
        link_rel=None,
    )
    # escape_misc: text that only looks like Markdown ([x](javascript:...)) stays text.
    text = _Converter(heading_style="ATX", bullets="-", escape_misc=True).convert(clean)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def one_line(text: str | None, limit: int = 300) -> str:
    """A metadata value: whitespace folded to single spaces, so no line can be added."""
    folded = " ".join(html.unescape(text or "").split())
    return folded[:limit]


def slugify(text: str, fallback: str) -> str:
    """A safe file and URL name: a-z, 0-9 and '-', never empty, never a path.

    Percent-encoded slugs (as WordPress stores non-Latin ones) are decoded, and
    other scripts transliterated (unidecode, as Pelican does): επίπεδο -> epipedo.
    """
    ascii_text = unidecode(unicodedata.normalize("NFC", unquote(text)))
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:80].strip("-")
    return slug or re.sub(r"[^a-z0-9]+", "-", fallback.lower()).strip("-") or "item"


def safe_id(text: str) -> str:
    """A reply id the thread format accepts."""
    cleaned = re.sub(r"[^A-Za-z0-9_-]", "-", str(text)).strip("-")[:80]
    return cleaned or "reply"


def utc_from_timestamp(value: float) -> datetime:
    return datetime.fromtimestamp(float(value), tz=UTC)


def make_ids_unique(replies: list[Reply], warnings: list[str], where: str) -> None:
    """Duplicate ids get a suffix; parents that point at them keep the first."""
    seen: set[str] = set()
    for reply in replies:
        if reply.id in seen:
            n = 2
            while f"{reply.id}-{n}" in seen:
                n += 1
            warnings.append(
                f"{where}: reply id {reply.id} appears twice; the second is {reply.id}-{n}"
            )
            reply.id = f"{reply.id}-{n}"
        seen.add(reply.id)


def attach_orphans(replies: list[Reply], warnings: list[str], where: str) -> None:
    """A reply whose parent is not in the file answers the opening post instead."""
    ids = {r.id for r in replies}
    for reply in replies:
        if reply.parent is not None and reply.parent not in ids:
            warnings.append(
                f"{where}: reply {reply.id} answers {reply.parent}, which is not in "
                "the file; it now answers the opening post"
            )
            reply.parent = None
