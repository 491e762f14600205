"""What the author wrote in content/, read independently of the plugins."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from tests.sitebuild import CONTENT

FIELD = re.compile(r"^([A-Za-z][A-Za-z0-9_-]*):\s*(.*)$")
REPLY_HEADER = re.compile(r"^```reply\s*$")


@dataclass
class Source:
    path: Path
    fields: dict[str, str]
    kind: str  # post | page | question | discussion

    @property
    def slug(self) -> str:
        return self.fields["slug"]

    @property
    def title(self) -> str:
        return self.fields["title"]

    @property
    def url(self) -> str:
        if self.kind == "page":
            return f"/{self.slug}/"
        return f"/{self.fields['date'][:4]}/{self.slug}/"


def header(path: Path) -> dict[str, str]:
    fields = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            break
        match = FIELD.match(line)
        if match:
            fields[match.group(1).lower()] = match.group(2).strip()
    return fields


def sources(content: Path = CONTENT) -> list[Source]:
    found = []
    for folder, kind in (("posts", "post"), ("threads", None), ("pages", "page")):
        for path in sorted((content / folder).glob("*.md")):
            fields = header(path)
            found.append(Source(path, fields, kind or fields["kind"]))
    return found


def thread_replies(path: Path) -> list[dict[str, str]]:
    """Each reply header of a thread file as a dict (a plain reading of the format)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    replies, i = [], 0
    while i < len(lines):
        if REPLY_HEADER.match(lines[i]):
            fields, i = {}, i + 1
            while lines[i].strip() != "```":
                key, _, value = lines[i].partition(":")
                fields[key.strip().lower()] = value.strip()
                i += 1
            replies.append(fields)
        i += 1
    return replies


def comment_files(slug: str, content: Path = CONTENT) -> list[dict[str, str]]:
    folder = content / "comments" / slug
    out = []
    for path in sorted(folder.glob("*.md")):
        fields = header(path)
        fields.setdefault("id", path.stem)
        out.append(fields)
    return out
