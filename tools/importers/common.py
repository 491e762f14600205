"""What every importer shares: the records they produce, and safe conversions.

Importers only read a file and return records; `writer.py` turns records into
content files. Nothing is written unless the whole input was read.
"""

from __future__ import annotations

import html
import re
import sys
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote

from markdownify import MarkdownConverter, chomp
from unidecode import unidecode

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from pelican.plugins.threads.parse import without_controls

# Imported bodies keep ordinary formatting and nothing executable: the same
# allow-list as the build, which cleans imported posts' HTML again.
from pelican.plugins.threads.render import clean_url, plain_address, sanitise_imported

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
    update: bool = False  # the asker's news of what happened next


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
    summary: str = ""  # Markdown, one paragraph (a WordPress excerpt)
    # Where community content came from and under what terms: its posts are
    # their writers', not the site's (shown on the page; no site licence in JSON-LD).
    attribution: str = ""
    # A reader's question sent through the Ask page: "pending" until the owner
    # approves it (changes the thread's `Moderation:` to published).
    moderation: str = "published"


@dataclass
class Subscription:
    """A reader who asked to be e-mailed replies (`Notify: yes`). The address is
    kept in the subscribers file outside content/, never in a content file."""

    address: str
    name: str  # the name they post under: their own replies are not sent to them
    item: Item | None = None  # a question of theirs (its slug is known once written)
    slug: str = ""  # or the post or thread they replied to
    since: datetime | None = None  # replies after this are sent (their message's date)


@dataclass
class Result:
    source: str
    items: list[Item] = field(default_factory=list)
    # Replies for posts or threads already in content/, by their slug.
    attach: dict[str, list[Reply]] = field(default_factory=dict)
    counts: Counter = field(default_factory=Counter)
    warnings: list[str] = field(default_factory=list)
    subscriptions: list[Subscription] = field(default_factory=list)
    unsubscribe: list[str] = field(default_factory=list)  # tokens from "stop" links


_MARKUP_IN_TEXT = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
# In a title, an image's alt text or code shown as raw HTML: every ASCII
# punctuation mark as an entity, so no reading of it can make markup.
_ENTITIES = {c: f"&#{ord(c)};" for c in "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"}
_ALL_ENTITIES = str.maketrans(_ENTITIES)


class _Converter(MarkdownConverter):
    """markdownify, made faithful for Python-Markdown: what WordPress showed as
    text stays text, and nothing in it can become a tag, a link or a fence end.

    * Text keeps its `<`, `>` and `&` escaped (markdownify would turn
      `&lt;script&gt;` back into `<script>`, which Markdown passes through).
    * Link and image addresses are percent-encoded where Markdown would read
      them as syntax (backticks, brackets, parentheses, spaces, quotes).
    * A code block at the top level is fenced with more backticks than any
      run in the code; a code block inside a list or quote (where
      Python-Markdown reads no fences) is written as HTML whose punctuation is
      all entities.
    """

    def escape(self, text, parent_tags):
        if "_noformat" in parent_tags or "pre" in parent_tags or "code" in parent_tags:
            return super().escape(text, parent_tags)
        # Entities, not backslashes: Python-Markdown shows "\<" with its backslash.
        return super().escape(text.translate(_MARKUP_IN_TEXT), parent_tags).replace("\\&", "&")

    @staticmethod
    def _title(element) -> str:
        title = " ".join((element.get("title") or "").split())
        return f' "{title.translate(_ALL_ENTITIES)}"' if title else ""

    def convert_a(self, el, text, parent_tags):
        if "_noformat" in parent_tags:
            return text
        prefix, suffix, text = chomp(text)
        href = clean_url(el.get("href") or "")
        if not text:
            return ""
        if not href:
            return f"{prefix}{text}{suffix}"
        return f"{prefix}[{text}]({href}{self._title(el)}){suffix}"

    def convert_img(self, el, text, parent_tags):  # noqa: ARG002 - markdownify API
        alt = " ".join((el.get("alt") or "").split()).translate(_ALL_ENTITIES)
        src = clean_url(el.get("src") or "")
        if not src:  # the sanitiser took an address that was not allowed
            return alt
        if "_inline" in parent_tags and el.parent.name not in self.options["keep_inline_images_in"]:
            return alt
        return f"![{alt}]({src}{self._title(el)})"

    def convert_pre(self, el, text, parent_tags):  # noqa: ARG002 - markdownify API
        if not text:
            return ""
        code = text.strip("\n")
        if parent_tags & {"li", "blockquote", "td", "th", "dd"}:
            # One line (markdownify would indent the lines of a list item).
            code = code.translate(_ALL_ENTITIES).replace("\n", "&#10;")
            return "<pre><code>" + code + "</code></pre>"
        longest = max((len(run) for run in re.findall(r"`+", code)), default=0)
        fence = "`" * max(3, longest + 1)
        return f"\n\n{fence}\n{code}\n{fence}\n\n"


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
    """Sanitise HTML to the allow-list of imported posts, then write it as Markdown."""
    if paragraphs_from_blank_lines:
        fragment = autop(fragment)
    clean = sanitise_imported(fragment)
    # escape_misc: text that only looks like Markdown ([x](javascript:...)) stays text.
    text = _Converter(heading_style="ATX", bullets="-", escape_misc=True).convert(clean)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def clean_result(result: Result) -> None:
    """What every importer's records go through before anything is written."""
    drop_controls(result)
    for item in result.items:
        if item.original_url and not plain_address(item.original_url):
            result.warnings.append(
                f"{result.source}: {item.kind} {item.slug!r}: its original address "
                f"{item.original_url[:80]!r} is not a plain http(s) URL; left out "
                "(no redirect is made from it)"
            )
            item.original_url = ""
        missing_alt = item.body.count("![](") if item.kind != "thread" else 0
        if missing_alt:
            result.warnings.append(
                f"{result.source}: {item.kind} {item.slug!r}: {missing_alt} image(s) without "
                "alt text; describe each (![what it shows](...)): `make publish` stops on "
                "Pelican's warning about them"
            )


def drop_controls(result: Result) -> None:
    """Control characters (a form feed, an escape, a backspace) in any imported
    text are dropped, each record that had one named in a note: no feed can
    carry them, and they would otherwise stop every build that publishes them."""
    text_fields = ("title", "author", "body", "category", "summary", "original_url", "attribution")
    records = [(f"{item.kind} {item.slug!r}", item) for item in result.items]
    records += [
        (f"reply {reply.id} in {item.slug!r}", reply)
        for item in result.items
        for reply in item.replies
    ]
    records += [
        (f"reply {reply.id} to {slug!r}", reply)
        for slug, replies in result.attach.items()
        for reply in replies
    ]
    for where, record in records:
        changed = []
        for name in text_fields:
            value = getattr(record, name, None)
            if isinstance(value, str) and without_controls(value) != value:
                setattr(record, name, without_controls(value))
                changed.append(name)
        tags = getattr(record, "tags", None)
        if tags and any(without_controls(t) != t for t in tags):
            record.tags = [without_controls(t) for t in tags]
            changed.append("tags")
        if changed:
            result.warnings.append(
                f"{result.source}: {where}: control characters removed from its "
                + ", ".join(changed)
            )


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


def note_removal(result: Result, where: str, removal: re.Match, how: str) -> None:
    """A removal request (`[remove: slug#reply-id]`) is not imported: say how to
    carry it out with `make takedown`."""
    item = removal.group(1) + (f"#{removal.group(2)}" if removal.group(2) else "")
    result.counts["removal requests (not imported)"] += 1
    result.warnings.append(
        f"{where}: a removal request for {item}; to carry it out: "
        f'make takedown ITEM={item} REASON="requested {how}"'
    )
