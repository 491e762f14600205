"""Write imported records as content files, safely and idempotently.

* Names come from slugs and source ids reduced to [a-z0-9-] (and _ for ids),
  and every path is checked to stay inside content/.
* Each post, page or thread file carries `Import-Key:`; each comment file is
  named after its source and id. Importing the same export again finds the
  same files: identical ones are left alone ("unchanged").
* A file that differs from what the import would write was edited since: it
  is kept unless --force. A file with the same name that came from somewhere
  else is never touched: the import takes the next free name.
* The file contents do not depend on when the import ran.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from pelican.plugins.threads.parse import safe_body

from .common import Item, Reply, one_line

FOLDERS = {"post": "posts", "page": "pages", "thread": "threads"}
FIELD = re.compile(r"^([A-Za-z][A-Za-z0-9_-]*):\s*(.*)$")
# `make takedown` was here: the file holds a withdrawn item or reply.
WITHDRAWN = re.compile(r"^(?:withdrawn:|moderation:\s*withdrawn\s*$)", re.IGNORECASE | re.MULTILINE)


def format_date(date: datetime) -> str:
    """ISO date; naive dates (a blog's local time) stay naive: the site's TIMEZONE."""
    return date.isoformat(sep=" ", timespec="minutes" if not date.second else "seconds")


def read_header(path: Path) -> dict[str, str]:
    fields = {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if not line.strip():
            break
        match = FIELD.match(line)
        if match:
            fields[match.group(1).lower()] = match.group(2).strip()
    return fields


def _header(pairs: list[tuple[str, str]]) -> str:
    return "".join(f"{key}: {one_line(value)}\n" for key, value in pairs if value)


def _summary(markdown: str) -> str:
    """A `Summary:` line: Markdown with its whitespace folded to single spaces
    (not unescaped, as other values are: it is read as Markdown)."""
    return f"Summary: {' '.join(markdown.split())[:1000]}\n" if markdown.strip() else ""


def reply_block(reply: Reply) -> str:
    pairs = [
        ("id", reply.id),
        ("parent", reply.parent or ""),
        ("author", reply.author),
        ("date", format_date(reply.date)),
        ("moderation", "" if reply.moderation == "published" else reply.moderation),
        ("origin", reply.origin),
    ]
    return "```reply\n" + _header(pairs) + "```\n\n" + safe_body(reply.body or "[removed]")


def render_item(item: Item) -> str:
    pairs = [
        ("Title", item.title),
        ("Slug", item.slug),
        ("Date", format_date(item.date)),
        ("Author", item.author),
        ("Category", item.category),
        ("Tags", ", ".join(t.replace(",", " ") for t in item.tags)),
        ("Status", "draft" if item.status == "draft" else ""),
        ("Original-URL", item.original_url),
        ("Attribution", item.attribution),
        ("Moderation", "" if item.moderation == "published" else item.moderation),
        ("Import-Key", item.key),
    ]
    if item.kind == "thread":
        pairs.insert(3, ("Kind", item.thread_kind))
        body = safe_body(item.body or "*The opening post was deleted.*")
        replies = "".join("\n\n" + reply_block(r) for r in item.replies)
        return _header(pairs) + "\n" + body + replies + "\n"
    return _header(pairs) + _summary(item.summary) + "\n" + (item.body or "") + "\n"


def render_comment(reply: Reply) -> str:
    pairs = [
        ("Id", reply.id),
        ("Parent", reply.parent or ""),
        ("Author", reply.author),
        ("Date", format_date(reply.date)),
        ("Moderation", reply.moderation),
        ("Origin", reply.origin),
        ("Message-Id", reply.message_id),
        ("Update", "yes" if reply.update else ""),
    ]
    return _header(pairs) + "\n" + (reply.body or "[removed]") + "\n"


APPROVED = re.compile(r"^moderation:\s*published\s*$", re.I | re.M)


class Writer:
    def __init__(self, content: Path, force: bool = False, dry_run: bool = False) -> None:
        self.content = content.resolve()
        self.force = force
        self.dry_run = dry_run
        self.outcomes: Counter = Counter()
        self.messages: list[str] = []
        self.taken = self._existing_slugs()

    def _existing_slugs(self) -> dict[str, str]:
        """Slug -> Import-Key (or '') of every post, page and thread already there."""
        taken = {}
        for folder in FOLDERS.values():
            for path in sorted((self.content / folder).glob("*.md")):
                header = read_header(path)
                taken[header.get("slug", path.stem)] = header.get("import-key", "")
        return taken

    def _inside(self, path: Path) -> Path:
        resolved = path.resolve()
        if self.content not in resolved.parents:
            raise ValueError(f"refusing to write {path}: outside {self.content}")
        return resolved

    def _put(self, path: Path, text: str, owned: bool) -> str:
        """Write unless unchanged, or edited since (owned, and no --force)."""
        path = self._inside(path)
        if path.exists():
            current = path.read_text(encoding="utf-8", errors="replace")
            if current == text:
                return "unchanged"
            if not owned:
                raise FileExistsError(path)
            if WITHDRAWN.search(current):
                self.messages.append(
                    f"{path.relative_to(self.content)}: holds something withdrawn at its "
                    "author's request (make takedown); kept, even with --force"
                )
                return "kept"
            if not self.force:
                header = current.split("\n\n", 1)[0]
                if APPROVED.search(header):
                    # --force would put back `Moderation: pending` and the text as sent.
                    self.messages.append(
                        f"{path.relative_to(self.content)}: approved (Moderation: published) "
                        "since it was imported; kept as you approved it (--force would "
                        "overwrite your approval and edits)"
                    )
                else:
                    self.messages.append(
                        f"{path.relative_to(self.content)}: changed since it was "
                        "imported; kept (use --force to overwrite)"
                    )
                return "kept"
        if not self.dry_run:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        return "written"

    def item(self, item: Item) -> str:
        """Write a post, page or thread; returns the slug it was written under."""
        base, n = item.slug, 1
        while item.slug in self.taken and self.taken[item.slug] != item.key:
            n += 1
            item.slug = f"{base}-{n}"
        if n > 1:
            self.messages.append(
                f"{base}: the slug is taken by another item; imported as {item.slug}"
            )
        self.taken[item.slug] = item.key
        path = self.content / FOLDERS[item.kind] / f"{item.slug}.md"
        replies = [] if item.kind == "thread" else item.replies
        self.outcomes[self._put(path, render_item(item), owned=True)] += 1
        self.comments(item.slug, replies)
        return item.slug

    def comments(self, slug: str, replies: list[Reply]) -> None:
        folder = self.content / "comments" / slug
        for reply in replies:
            name = f"{reply.id}.md"
            path = folder / name
            n = 1
            original_id = reply.id
            while True:
                try:
                    outcome = self._put(path, render_comment(reply), owned=self._owned(path, reply))
                    break
                except FileExistsError:
                    n += 1
                    reply.id = f"{original_id}-{n}"  # a second file must not repeat the id
                    path = folder / f"{reply.id}.md"
            if reply.id != original_id:
                self.messages.append(
                    f"comments/{slug}/{original_id}.md belongs to another "
                    f"reply; this one is {reply.id}"
                )
            self.outcomes[f"comment files {outcome}"] += 1

    @staticmethod
    def _owned(path: Path, reply: Reply) -> bool:
        """Is an existing comment file this reply's? In an item's folder, a reply's
        source id is its identity (a newer export may move its origin URL)."""
        return not path.exists() or read_header(path).get("id") == reply.id
