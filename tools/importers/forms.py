"""Questions and replies readers sent through a form service, from its export.

The Ask page and each post's and thread's "Leave a reply" form can post to a
form service (READERS_FORM_SERVICE, READERS_FORM_ENDPOINT). Its submissions,
exported as JSON or CSV, become the same pending files the e-mail importer
writes: a question (its `token` field holds `[ask]`) becomes a pending question
thread, a reply (`[reply-to: slug#reply-id]`) a pending comment file, and an
`[unsubscribe: ...]` token ends a subscription.

Shapes read (field names in any case; `message`, `question`, `comment` and
`body` all name the text):

* Netlify Forms: the API's JSON list of submissions (`{"data": {...},
  "created_at": ...}`), or the CSV the dashboard exports;
* Formspree: the JSON (`{"submissions": [...]}` or a list) or CSV export;
* Staticman-style services: a JSON list of entries whose fields are under
  `fields` (as the form posts `fields[name]`);
* GitHub issue forms: `gh issue list --json number,title,body,createdAt` (the
  body's `### Heading` sections are the fields).

Names follow the e-mail rules: the name the person chose, else a handle from a
keyed hash of their address (the same handle an e-mail from that address
gets), else of the submission's id. Addresses are written nowhere in content/;
one given with `notify` checked goes to the subscribers file only.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from datetime import UTC, datetime
from pathlib import Path

from .common import ImportFailure, Reply, Result, note_removal, one_line
from .email_in import (
    ASK_RE,
    REMOVAL,
    TOKEN,
    UNSUBSCRIBE,
    handle,
    keyed,
    new_question,
    question_title,
    subscribe,
)

ALIASES = {
    "message": ("message", "question", "comment", "body", "text", "content", "details"),
    "name": ("name", "your-name", "pseudonym", "display-name"),
    "email": ("email", "e-mail", "your-email", "address"),
    "title": ("title", "subject", "question-title", "headline"),
    "token": ("token", "reply-to", "thread"),
    "notify": ("notify", "notify-me", "notifications"),
    "update": ("update",),
    "kind": ("kind", "form-name", "form_name", "form"),
    "date": (
        "date",
        "created_at",
        "createdat",
        "created",
        "_date",
        "submitted_at",
        "submitted",
        "timestamp",
    ),
    "id": ("id", "number", "_id", "submission-id", "submission_id"),
    "honeypot": ("bot-field", "_gotcha", "honeypot"),
}
SECTION = re.compile(r"^###\s+(.+?)\s*$", re.M)


def _key(name: str) -> str:
    return re.sub(r"\s+", "-", str(name).strip().lower())


def _records(path: Path) -> list[tuple[str, dict]]:
    """(where, raw record) for each submission in the file."""
    text = path.read_text(encoding="utf-8-sig", errors="replace")
    stripped = text.lstrip()
    if stripped.startswith(("[", "{")):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ImportFailure(
                f"{path}:{exc.lineno}:{exc.colno}: not valid JSON ({exc.msg})"
            ) from exc
        if isinstance(data, dict):
            for name in ("submissions", "entries", "data", "items", "results"):
                if isinstance(data.get(name), list):
                    data = data[name]
                    break
            else:
                data = [data]
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            raise ImportFailure(f"{path}: expected a list of submissions (JSON objects)")
        return [(f"{path}: submission {n}", record) for n, record in enumerate(data, 1)]
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames:
        raise ImportFailure(f"{path}: no header row; export the submissions as CSV or JSON")
    rows = []
    for row in reader:
        if None in row:
            raise ImportFailure(
                f"{path}:{reader.line_num}: more values than the header has columns "
                "(an unquoted comma?)"
            )
        rows.append((f"{path}:{reader.line_num}", row))
    return rows


def flatten(record: dict) -> dict[str, str]:
    """One submission's fields under the names in ALIASES."""
    raw: dict[str, object] = {}
    for nested in ("data", "fields", "human_fields"):
        if isinstance(record.get(nested), dict):
            raw.update({_key(k): v for k, v in record[nested].items()})
    for key, value in record.items():
        raw.setdefault(_key(key), value)
    body = raw.get("body")
    if isinstance(body, str) and SECTION.search(body):
        # A GitHub issue form: `### Label` then the value, for each field.
        parts = SECTION.split(body)
        for label, value in zip(parts[1::2], parts[2::2], strict=True):
            value = value.strip()
            raw[_key(label)] = "" if value == "_No response_" else value
        raw.pop("body")
    fields: dict[str, str] = {}
    for name, aliases in ALIASES.items():
        for alias in aliases:
            value = raw.get(alias)
            if isinstance(value, list):  # a checkbox group: ["yes"], or GitHub's "- [x] ..."
                value = ", ".join(map(str, value))
            if value not in (None, ""):
                fields[name] = str(value)
                break
    return fields


def _date(value: str, where: str) -> datetime:
    text = value.strip()
    if not text:
        return datetime.now(tz=UTC).replace(microsecond=0)
    try:
        if re.fullmatch(r"\d{9,13}(\.\d+)?", text):
            number = float(text)
            return datetime.fromtimestamp(number / 1000 if number > 1e11 else number, tz=UTC)
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ImportFailure(
            f"{where}: cannot read the date {text!r}; the export should give ISO 8601 "
            "(2026-11-14T21:40:00Z) or a Unix time"
        ) from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _checked(value: str) -> bool:
    """A checkbox as services export it: "yes", "on", "true", "[x]"."""
    word = value.strip().lower()
    return word in ("yes", "y", "on", "true", "1", "checked") or "[x]" in word


def parse(path: Path, key: bytes, category: str = "The Search") -> Result:
    """Read every submission first (a malformed file writes nothing), then
    turn each into a pending question or reply."""
    records = [(where, flatten(record)) for where, record in _records(path)]
    dated = [(where, fields, _date(fields.get("date", ""), where)) for where, fields in records]
    result = Result(source=str(path))
    for where, fields, date in dated:
        token_text = " ".join((fields.get("token", ""), fields.get("kind", "")))
        title_text = fields.get("title", "")
        if fields.get("honeypot"):
            result.counts["skipped: spam (the hidden field was filled in)"] += 1
            continue
        stop = UNSUBSCRIBE.search(token_text) or UNSUBSCRIBE.search(title_text)
        if stop:
            result.unsubscribe.append(stop.group(1))
            result.counts["unsubscribe requests"] += 1
            continue
        removal = REMOVAL.search(token_text) or REMOVAL.search(title_text)
        if removal:
            note_removal(result, where, removal, "through the form")
            continue
        body = fields.get("message", "").replace("\r\n", "\n").strip()
        if not body:
            result.counts["skipped: empty submission"] += 1
            result.warnings.append(f"{where}: no message; skipped")
            continue
        address = fields.get("email", "")
        chosen = one_line(fields.get("name", ""), 80)
        identity = (
            fields.get("id")
            or hashlib.sha256(f"{title_text}\n{date.isoformat()}\n{body}".encode()).hexdigest()
        )
        name = chosen or handle(key, address or f"form:{identity}")
        result.counts["published under a chosen name" if chosen else "given a handle"] += 1
        reply_to = TOKEN.search(token_text) or TOKEN.search(title_text)
        asked = (
            ASK_RE.search(token_text)
            or ASK_RE.search(title_text)
            or (_key(fields.get("kind", "")) in ("ask", "question"))
        )
        if reply_to:
            slug, parent = reply_to.group(1), reply_to.group(2)
            digest = keyed(key, f"form:{identity}")[:12]
            result.attach.setdefault(slug, []).append(
                Reply(
                    id=f"form-{digest}",
                    author=name,
                    date=date,
                    body=body,
                    parent=parent,
                    moderation="pending",
                    update=_checked(fields.get("update", "")),
                )
            )
            result.counts["pending replies"] += 1
            if _checked(fields.get("notify", "")):
                subscribe(result, address, name, where, slug=slug, since=date)
        elif asked:
            title, from_body = question_title(title_text, body)
            if from_body:
                result.warnings.append(
                    f"{where}: no title; the first sentence is its title ({title[:60]!r}): "
                    "edit it before publishing"
                )
            item = new_question(
                f"form:ask:{keyed(key, f'form:{identity}')[:24]}",
                title,
                body,
                name,
                date,
                category,
            )
            result.items.append(item)
            result.counts["pending questions"] += 1
            if _checked(fields.get("notify", "")):
                subscribe(result, address, name, where, item=item)
        else:
            result.counts["skipped: names no thread and is not a question"] += 1
            result.warnings.append(f"{where}: names no thread and is not a question; skipped")
    return result
