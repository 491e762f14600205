"""Replies that readers sent by e-mail (one .eml message or an mbox file).

Each becomes a pending comment file attached to its parent, found from the
subject's token (`[reply-to: slug#reply-id]`, which the site's "Reply" links
put there) or from In-Reply-To, matched against earlier e-mailed replies.

Pseudonyms by default: the author is the name the person chose, a `Name:` line
at the top of the message (as web forms that send e-mail write it), else a
stable handle made from a keyed hash of the sender's address (`reader-k3v9q2xa`:
the same sender always gets the same handle, and without the key nobody can
tell whose address it came from). The sender's display name and address are
written nowhere: not as the author, not in the body (where the display name,
its surname and, in a sign-off, any of its words are replaced by the published
name), not as the Message-Id (kept as a keyed hash, enough to match In-Reply-To).

A message whose subject carries `[ask]` (the site's Ask page puts it there) is
a new question: it becomes a question thread under content/threads/, with
`Moderation: pending` until the owner approves it, under the same pseudonym
rules; its title is the rest of the subject (or, when that is empty, the
message's first sentence).

A message whose subject carries a removal request (`[remove: slug#reply-id]`,
from the site's "Request removal" links) is not a reply: it is counted and
named with the `make takedown` command that carries it out.
"""

from __future__ import annotations

import base64
import email
import email.policy
import hashlib
import hmac
import mailbox
import os
import re
import secrets
import sys
from datetime import UTC, datetime
from email.utils import parseaddr, parsedate_to_datetime
from pathlib import Path

from .common import (
    ImportFailure,
    Item,
    Reply,
    Result,
    Subscription,
    note_removal,
    one_line,
    slugify,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "plugins"))
from readers.tokens import ASK_PLACEHOLDER, ASK_RE

TOKEN = re.compile(r"\[reply-to:\s*([a-z0-9-]+)(?:#([A-Za-z0-9_-]+))?\s*\]")
UNSUBSCRIBE = re.compile(r"\[unsubscribe:\s*([A-Za-z0-9_-]{8,64})\s*\]")
REMOVAL = re.compile(r"\[remove:\s*([a-z0-9-]+)(?:#([A-Za-z0-9_-]+))?\s*\]")
QUOTE_INTRO = re.compile(r"^On .{0,200} wrote:\s*$", re.IGNORECASE)
# Lines a web form (or a careful reader) puts at the top of the message.
FORM_FIELD = re.compile(r"^(name|e-?mail)\s*:\s*(.*)$", re.IGNORECASE)
# Yes/no lines the Ask page and forms write: `Notify: yes` (e-mail me replies),
# `Update: yes` (this reply is the asker's news). Only with a yes or no, so a
# reply that starts "Update: I called her" keeps its first line.
FORM_FLAG = re.compile(r"^(notify|update)\s*:\s*(yes|no|y|n|true|false|on|off)?\s*$", re.IGNORECASE)
SUBJECT_PREFIX = re.compile(r"^\s*(?:(?:re|fwd?|aw|sv)\s*:\s*)+", re.IGNORECASE)


def load_key(path: Path) -> bytes:
    """The owner's secret for handles and hashed Message-Ids: `path` (made on
    first use, readable by the owner only). It lives beside content/, not in
    it, and `.gitignore` keeps it out of git: with it, anyone could test which
    address a handle came from."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "x", encoding="ascii", opener=lambda p, f: os.open(p, f, 0o600)) as out:
            out.write(secrets.token_hex(32) + "\n")
    key = path.read_text(encoding="ascii", errors="replace").strip()
    if len(key) < 32:
        raise ImportFailure(
            f"{path}: the privacy key is too short ({len(key)} characters). Delete the file to "
            "have a new one made (handles of earlier senders will change), or restore it."
        )
    return key.encode()


def keyed(key: bytes, text: str) -> str:
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def handle(key: bytes, address: str) -> str:
    """A sender's stable pseudonym, from a keyed hash of the address."""
    digest = hmac.new(key, address.strip().lower().encode(), hashlib.sha256).digest()
    return "reader-" + base64.b32encode(digest[:5]).decode().lower()


def form_fields(body: str) -> tuple[dict[str, str], str]:
    """`Name:` / `Email:` (and yes/no `Notify:` / `Update:`) lines at the top of a
    message, and the rest of it."""
    fields: dict[str, str] = {}
    lines = body.split("\n")
    while lines:
        line = lines[0].strip()
        match = FORM_FIELD.match(line) or FORM_FLAG.match(line)
        if line and not match:
            break
        lines.pop(0)
        if match:
            value = (match.group(2) or "").strip()
            fields.setdefault(match.group(1).lower().replace("-", ""), value)
    return fields, "\n".join(lines).strip()


def said_yes(fields: dict[str, str], key: str) -> bool:
    return fields.get(key, "").lower() in ("yes", "y", "true", "on")


def question_title(subject: str, body: str) -> tuple[str, bool]:
    """The title of an asked question: the subject without `[ask]`, "Re:" and
    the Ask page's placeholder; else the body's first sentence. And whether it
    came from the body."""
    title = ASK_RE.sub(" ", subject)
    title = SUBJECT_PREFIX.sub("", title)
    title = re.sub(re.escape(ASK_PLACEHOLDER), " ", title, flags=re.IGNORECASE)
    title = one_line(title, 150).strip(" -:")
    if title:
        return title, False
    first = re.split(r"(?<=[.?!])\s", " ".join(body.split()), maxsplit=1)[0]
    if len(first) > 100:
        first = first[:100].rsplit(" ", 1)[0] + "…"
    return first, True


# Capitalised words a display name may hold that are also ordinary words of a
# reply ("Library Jobs", "The Branch Team"): replaced only as part of the whole name.
_COMMON = frozenset(
    (
        "the",
        "and",
        "for",
        "from",
        "with",
        "library",
        "libraries",
        "team",
        "office",
        "branch",
        "staff",
        "jobs",
        "job",
        "reader",
        "readers",
        "admin",
        "info",
        "services",
        "service",
        "university",
        "college",
        "school",
        "county",
        "city",
        "public",
        "news",
        "help",
        "desk",
        "dear",
        "thanks",
    )
)
_SIGN_OFF_WORDS = 6  # a line this short that holds a name is a sign-off


def without_names(body: str, display_name: str, shown: str) -> tuple[str, int]:
    """The body with the sender's display name replaced by the name published,
    and how many replacements were made: the whole name anywhere (any case);
    the surname (the last word of four letters or more) anywhere, as written;
    any word of the name in a short line (a sign-off: "Thanks, Harriet")."""
    words = [w for w in re.findall(r"[^\W\d_][\w'’-]+", display_name) if len(w) >= 2]
    if not words:
        return body, 0
    count = 0
    whole = r"\s+".join(re.escape(w) for w in display_name.split())
    body, n = re.subn(rf"(?<!\w){whole}(?!\w)", shown, body, flags=re.IGNORECASE)
    count += n
    surname = words[-1]
    if len(surname) >= 4 and surname.casefold() not in _COMMON:
        body, n = re.subn(rf"(?<!\w){re.escape(surname)}(?!\w)", shown, body)
        count += n
    lines = body.split("\n")
    for index, line in enumerate(lines):
        if len(line.split()) > _SIGN_OFF_WORDS:
            continue
        for word in words:
            if word.casefold() in _COMMON:
                continue
            line, n = re.subn(rf"(?<!\w){re.escape(word)}(?!\w)", shown, line)
            count += n
        lines[index] = line
    return "\n".join(lines), count


def without_address(text: str, address: str) -> tuple[str, int]:
    """The text with the sender's own address (any case, `mailto:` too) taken out,
    and how many times: an address in a signature is as identifying as the From line."""
    address = address.strip()
    if "@" not in address:
        return text, 0
    return re.subn(
        rf"(?<![\w.+-])(?:mailto:)?{re.escape(address)}(?![\w-])",
        "[address removed]",
        text,
        flags=re.IGNORECASE,
    )


def _messages(path: Path):
    raw = path.read_bytes()
    if raw.startswith(b"From "):
        return list(mailbox.mbox(str(path), factory=None, create=False))
    return [email.message_from_bytes(raw, policy=email.policy.default)]


def _body(message) -> str:
    """The plain-text part, without the quoted message and the signature."""
    if hasattr(message, "get_body"):
        part = message.get_body(preferencelist=("plain",))
        text = part.get_content() if part is not None else ""
    else:  # mbox messages use the compat API
        parts = [p for p in message.walk() if p.get_content_type() == "text/plain"]
        payload = parts[0].get_payload(decode=True) if parts else b""
        text = payload.decode(parts[0].get_content_charset() or "utf-8", "replace") if parts else ""
    lines = []
    for line in text.replace("\r\n", "\n").split("\n"):
        if line.rstrip() == "--" or QUOTE_INTRO.match(line.strip()):
            break
        lines.append(line)
    while lines and (lines[-1].startswith(">") or not lines[-1].strip()):
        lines.pop()
    return "\n".join(lines).strip()


def parse(
    path: Path, known: dict[str, tuple[str, str]], key: bytes, category: str = "The Search"
) -> Result:
    """`known`: Message-Id (or its keyed hash) -> (slug, reply id) of replies
    already imported; `key`: the owner's secret (`load_key`); `category`: that
    of asked questions (the owner may change it when approving one)."""
    try:
        messages = _messages(path)
    except (OSError, mailbox.Error) as exc:
        raise ImportFailure(f"{path}: cannot read it as e-mail ({exc})") from exc
    result = Result(source=str(path))
    for number, message in enumerate(messages, 1):
        subject = one_line(str(message.get("Subject", "")))
        message_id = one_line(str(message.get("Message-ID", ""))).strip("<>")
        where = f"{path}: message {number} ({subject[:50]!r})"
        removal = REMOVAL.search(subject)
        if removal:
            note_removal(result, where, removal, "by e-mail")
            continue
        stop = UNSUBSCRIBE.search(subject)
        if stop:
            result.unsubscribe.append(stop.group(1))
            result.counts["unsubscribe requests"] += 1
            continue
        if ASK_RE.search(subject) and not TOKEN.search(subject):
            _question(message, (path, number), subject, message_id, key, category, result)
            continue
        slug = parent = None
        token = TOKEN.search(subject)
        if token:
            slug, parent = token.group(1), token.group(2)
        in_reply_to = one_line(str(message.get("In-Reply-To", ""))).strip("<>")
        for known_as in (keyed(key, in_reply_to), in_reply_to) if in_reply_to else ():
            if known_as in known:
                slug, parent = known[known_as]
                break
        if slug is None:
            result.counts["skipped: no thread token or known In-Reply-To"] += 1
            result.warnings.append(f"{where}: names no thread; skipped")
            continue
        display_name, address = parseaddr(str(message.get("From", "")))
        fields, body = form_fields(_body(message))
        if not body:
            result.counts["skipped: empty message"] += 1
            continue
        chosen = one_line(fields.get("name", ""), 80)
        sender = address or fields.get("email", "") or message_id
        name = chosen or handle(key, sender or f"{path}:{number}")
        result.counts["published under a chosen name" if chosen else "given a handle"] += 1
        body, removed = without_address(body, address)
        if removed:
            result.warnings.append(
                f"{where}: the sender's address was removed from the body "
                f"({removed} time(s)); read it before publishing"
            )
        if display_name and display_name.strip() != chosen:
            body, replaced = without_names(body, display_name, name)
            if replaced:
                result.warnings.append(
                    f"{where}: the sender's name was replaced by {name!r} in the body "
                    f"({replaced} time(s)); read it before publishing"
                )
        date = _date(message, where, result)
        digest = hashlib.sha256((message_id or f"{path}:{number}").encode()).hexdigest()[:12]
        reply = Reply(
            id=f"mail-{digest}",
            author=name,
            date=date,
            body=body,
            parent=parent,
            moderation="pending",
            message_id=keyed(key, message_id) if message_id else "",
            update=said_yes(fields, "update"),
        )
        if message_id:
            known[keyed(key, message_id)] = (slug, reply.id)
        result.attach.setdefault(slug, []).append(reply)
        result.counts["pending replies"] += 1
        if said_yes(fields, "notify"):
            subscribe(
                result, address or fields.get("email", ""), name, where, slug=slug, since=date
            )
    return result


def _date(message, where: str, result: Result) -> datetime:
    try:
        date = parsedate_to_datetime(str(message.get("Date")))
    except (TypeError, ValueError):
        date = None
    if date is None:
        result.warnings.append(f"{where}: no readable Date header; dated now")
        date = datetime.now(tz=UTC).replace(microsecond=0)
    return date


def _question(message, at: tuple[Path, int], subject, message_id, key, category, result):
    """A question sent through the Ask page: a pending question thread."""
    path, number = at
    where = f"{path}: message {number} ({subject[:50]!r})"
    display_name, address = parseaddr(str(message.get("From", "")))
    fields, body = form_fields(_body(message))
    if not body:
        result.counts["skipped: empty question"] += 1
        result.warnings.append(f"{where}: a question with no text; skipped")
        return
    chosen = one_line(fields.get("name", ""), 80)
    sender = address or fields.get("email", "") or message_id
    name = chosen or handle(key, sender or f"{path}:{number}")
    result.counts["published under a chosen name" if chosen else "given a handle"] += 1
    named = body  # what identifies a message without a Message-ID (names taken out below)
    body, removed = without_address(body, address)
    if removed:
        result.warnings.append(
            f"{where}: the sender's address was removed from the question "
            f"({removed} time(s)); read it before publishing"
        )
    title, from_body = question_title(subject, body)
    if display_name and display_name.strip() != chosen:
        named = without_names(named, display_name, name)[0]
        body, replaced = without_names(body, display_name, name)
        title, in_title = without_names(title, display_name, name)
        if replaced or in_title:
            result.warnings.append(
                f"{where}: the sender's name was replaced by {name!r} in the question "
                f"({replaced + in_title} time(s)); read it before publishing"
            )
    if from_body:
        result.warnings.append(
            f"{where}: the subject has no question in it; the title is the first sentence "
            f"({title[:60]!r}): edit it before publishing"
        )
    identity = keyed(key, message_id or f"{subject}\n{message.get('Date')}\n{named}")
    item = new_question(
        f"email:ask:{identity[:24]}", title, body, name, _date(message, where, result), category
    )
    result.items.append(item)
    result.counts["pending questions"] += 1
    if said_yes(fields, "notify"):
        subscribe(result, address or fields.get("email", ""), name, item=item, where=where)


def new_question(key: str, title: str, body: str, name: str, date: datetime, category: str):
    """A reader's question, waiting for the owner's approval."""
    return Item(
        key=key,
        kind="thread",
        title=title,
        slug=slugify(title, "question"),
        date=date,
        author=name,
        body=body,
        category=category,
        thread_kind="question",
        moderation="pending",
    )


def subscribe(
    result: Result, address: str, name: str, where: str, item=None, slug: str = "", since=None
):
    """`Notify: yes`: the reader wants replies by e-mail. The address goes to the
    subscribers file (outside content/), never into a content file."""
    address = parseaddr(address)[1].strip()
    if "@" not in address:
        result.warnings.append(f"{where}: asked to be notified, but gave no e-mail address")
        return
    since = item.date if item is not None else since
    result.subscriptions.append(Subscription(address, name, item, slug, since))
    result.counts["notification requests"] += 1
