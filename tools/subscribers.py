"""The subscribers file: readers who asked to be e-mailed replies (`Notify: yes`).

It holds e-mail addresses, so it lives beside content/, never in it (nothing in
it reaches the site), is created readable by its owner only, and `.gitignore`
keeps it out of git. Never publish it, commit it or copy it into content/.

    {"subscriptions": [{"token": ..., "address": ..., "name": ..., "slug": ...,
                        "since": "2026-11-14T21:40:00-06:00", "sent": ["p1", ...]}]}

`token` is the secret in each notice's unsubscribe link (`[unsubscribe: TOKEN]`);
`name` is the name the reader posts under (their own replies are not sent to
them); `since` is when they subscribed (older replies are not sent); `sent`
lists the replies already sent, so each run sends only what is new.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

FILE_NAME = ".subscribers.json"


class SubscribersError(Exception):
    """The file cannot be read; the message names it and the fix."""


@dataclass
class Subscriber:
    token: str
    address: str
    name: str
    slug: str
    since: str  # ISO 8601
    sent: list[str] = field(default_factory=list)

    @property
    def since_date(self) -> datetime:
        return datetime.fromisoformat(self.since)


def default_path(content: Path) -> Path:
    return content.resolve().parent / FILE_NAME


def load(path: Path) -> list[Subscriber]:
    if not path.exists():
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return [Subscriber(**entry) for entry in data["subscriptions"]]
    except (ValueError, KeyError, TypeError) as exc:
        raise SubscribersError(
            f"{path}: not a subscribers file this project wrote ({exc}). Restore it from your "
            "backup, or move it away to start a new one (its readers will get no notices)."
        ) from exc


def save(path: Path, subscribers: list[Subscriber]) -> None:
    """Written whole to a new file, then renamed over the old one, readable by
    its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".new")
    data = {"subscriptions": [asdict(s) for s in subscribers]}
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        json.dump(data, out, indent=1, ensure_ascii=False)
        out.write("\n")
    os.replace(temporary, path)


def add(
    subscribers: list[Subscriber], address: str, name: str, slug: str, since: datetime
) -> Subscriber | None:
    """Subscribe `address` to `slug` (None when it already is)."""
    wanted = address.strip().lower()
    for existing in subscribers:
        if existing.address.lower() == wanted and existing.slug == slug:
            return None
    entry = Subscriber(
        token=secrets.token_urlsafe(18),
        address=address.strip(),
        name=name,
        slug=slug,
        since=since.isoformat(timespec="seconds"),
    )
    subscribers.append(entry)
    return entry


def remove(subscribers: list[Subscriber], token: str) -> Subscriber | None:
    for existing in subscribers:
        if secrets.compare_digest(existing.token, token):
            subscribers.remove(existing)
            return existing
    return None
