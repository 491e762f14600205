"""Replies that readers sent by e-mail (one .eml message or an mbox file).

Each becomes a pending comment file attached to its parent, found from the
subject's token (`[reply-to: slug#reply-id]`, which the site's "Reply" links
put there) or from In-Reply-To, matched against earlier e-mailed replies. The
sender's display name is the author; the address is never written.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import mailbox
import re
from datetime import UTC, datetime
from email.utils import parseaddr, parsedate_to_datetime
from pathlib import Path

from .common import ImportFailure, Reply, Result, one_line

TOKEN = re.compile(r"\[reply-to:\s*([a-z0-9-]+)(?:#([A-Za-z0-9_-]+))?\s*\]")
QUOTE_INTRO = re.compile(r"^On .{0,200} wrote:\s*$", re.IGNORECASE)


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


def parse(path: Path, known: dict[str, tuple[str, str]]) -> Result:
    """`known`: Message-Id -> (slug, reply id) of replies already imported."""
    try:
        messages = _messages(path)
    except (OSError, mailbox.Error) as exc:
        raise ImportFailure(f"{path}: cannot read it as e-mail ({exc})") from exc
    result = Result(source=str(path))
    for number, message in enumerate(messages, 1):
        subject = one_line(str(message.get("Subject", "")))
        message_id = one_line(str(message.get("Message-ID", ""))).strip("<>")
        where = f"{path}: message {number} ({subject[:50]!r})"
        slug = parent = None
        token = TOKEN.search(subject)
        if token:
            slug, parent = token.group(1), token.group(2)
        in_reply_to = one_line(str(message.get("In-Reply-To", ""))).strip("<>")
        if in_reply_to in known:
            slug, parent = known[in_reply_to]
        if slug is None:
            result.counts["skipped: no thread token or known In-Reply-To"] += 1
            result.warnings.append(f"{where}: names no thread; skipped")
            continue
        body = _body(message)
        if not body:
            result.counts["skipped: empty message"] += 1
            continue
        name = one_line(parseaddr(str(message.get("From", "")))[0], 80)
        try:
            date = parsedate_to_datetime(str(message.get("Date")))
        except (TypeError, ValueError):
            date = None
        if date is None:
            result.warnings.append(f"{where}: no readable Date header; dated now")
            date = datetime.now(tz=UTC).replace(microsecond=0)
        digest = hashlib.sha256((message_id or f"{path}:{number}").encode()).hexdigest()[:12]
        reply = Reply(
            id=f"mail-{digest}",
            author=name or "A reader",
            date=date,
            body=body,
            parent=parent,
            moderation="pending",
            message_id=message_id,
        )
        known[message_id] = (slug, reply.id)
        result.attach.setdefault(slug, []).append(reply)
        result.counts["pending replies"] += 1
    return result
