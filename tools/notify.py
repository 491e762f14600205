"""E-mail each reader who asked for it (`Notify: yes`) the replies published since
the last run: `make notify` (`NOTIFYOPTS=--dry-run` prints what would be sent).

No server of the site's own: run it after `make publish`, from the owner's
machine (or a scheduled job), with the owner's outgoing mail server:

    NOTIFY_SMTP_HOST=smtp.example.org NOTIFY_SMTP_PORT=587 NOTIFY_SMTP_STARTTLS=yes \\
    NOTIFY_SMTP_USER=... NOTIFY_SMTP_PASSWORD=... make notify

Subscriptions are in the subscribers file (`.subscribers.json` beside content/,
never published or committed; tools/subscribers.py). A reply is sent when it is
published (its own `moderation` and its item's), dated after the reader
subscribed, not by the reader, and not sent before. Each notice carries the
subscription's unsubscribe link: a `mailto:` whose subject is
`[unsubscribe: TOKEN]`, which `make import SOURCE=email` (or SOURCE=form)
honours by removing the subscription.
"""

from __future__ import annotations

import argparse
import os
import re
import smtplib
import sys
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pelican.plugins.threads.parse import (  # noqa: E402
    parse_comment,
    parse_thread,
    without_controls,
)

from tools import subscribers as subscriber_file  # noqa: E402
from tools.importers.writer import read_header  # noqa: E402

ADDRESS = re.compile(r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\"]+$")


@dataclass
class Published:
    id: str
    author: str
    date: datetime
    body: str


@dataclass
class Item:
    slug: str
    title: str
    url: str  # absolute
    replies: list[Published]


def _date(text: str, zone: ZoneInfo) -> datetime | None:
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=zone)


def published_items(content: Path, settings: dict) -> dict[str, Item]:
    """Every published post, thread and page by slug, with its published replies."""
    zone = ZoneInfo(settings["TIMEZONE"])
    siteurl = settings["SITEURL"].rstrip("/")
    items: dict[str, Item] = {}
    for folder, pattern in (
        ("posts", "ARTICLE_URL"),
        ("threads", "ARTICLE_URL"),
        ("pages", "PAGE_URL"),
    ):
        for path in sorted((content / folder).glob("*.md")):
            header = read_header(path)
            if header.get("status", "").lower() in ("draft", "hidden", "skip"):
                continue
            if header.get("moderation", "published").lower() != "published":
                continue
            slug = header.get("slug", path.stem)
            date = _date(header.get("date", ""), zone) or datetime.now(tz=zone)
            url = settings[pattern].format(slug=slug, date=date)
            replies = []
            if folder == "threads":
                parsed = parse_thread(path.read_text(encoding="utf-8", errors="replace"), str(path))
                replies = parsed.replies
            items[slug] = Item(slug, header.get("title", slug), f"{siteurl}/{url}", [])
            for raw in replies + _comments(content, slug):
                when = _date(raw.date, zone)
                if raw.moderation == "published" and when is not None:
                    items[slug].replies.append(Published(raw.id, raw.author, when, raw.body))
    return items


def _comments(content: Path, slug: str):
    found = []
    for path in sorted((content / "comments" / slug).glob("*.md")):
        reply, _ = parse_comment(
            path.read_text(encoding="utf-8", errors="replace"), str(path), default_id=path.stem
        )
        found.append(reply)
    return found


def new_replies(subscriber: subscriber_file.Subscriber, item: Item) -> list[Published]:
    since = subscriber.since_date
    mine = subscriber.name.strip().casefold()
    return sorted(
        (
            r
            for r in item.replies
            if r.date > since and r.id not in subscriber.sent and r.author.casefold() != mine
        ),
        key=lambda r: (r.date, r.id),
    )


def notice(
    subscriber: subscriber_file.Subscriber,
    item: Item,
    replies: list[Published],
    sender: str,
    reply_address: str,
    site: str,
) -> EmailMessage:
    stop = f"[unsubscribe: {subscriber.token}]"
    stop_link = f"mailto:{reply_address}?subject={quote(stop, safe='')}"
    message = EmailMessage()
    message["From"] = sender
    message["To"] = subscriber.address
    count = len(replies)
    message["Subject"] = f"{count} new {'reply' if count == 1 else 'replies'}: {item.title}"
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1] or None)
    message["List-Unsubscribe"] = f"<{stop_link}>"
    lines = [f"New on {site}, in “{item.title}”:", ""]
    for reply in replies:
        text = " ".join(without_controls(reply.body).split())
        lines += [
            f"{reply.author}, {reply.date:%d %B %Y %H:%M}:",
            text[:400] + ("…" if len(text) > 400 else ""),
            f"{item.url}#reply-{reply.id}",
            "",
        ]
    lines += [
        f"You get these because you asked to be told about replies to “{item.title}”.",
        f"To stop, send an e-mail with the subject {stop} to {reply_address}:",
        stop_link,
    ]
    message.set_content("\n".join(lines) + "\n")
    # Headers are written folded only past RFC 5322's 998 characters: folded at 78, the
    # long List-Unsubscribe would be written as encoded words, which mail programs do not
    # read as a link (RFC 2369), so their "Unsubscribe" button would not appear.
    message.policy = policy.default.clone(max_line_length=998)
    return message


def _settings(path: Path, siteurl: str | None) -> dict:
    from pelican.settings import read_settings

    override = {"SITEURL": siteurl} if siteurl else {}
    return read_settings(str(path), override=override)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--content", type=Path, default=ROOT / "content")
    parser.add_argument("--subscribers", type=Path, default=None)
    parser.add_argument("--settings", type=Path, default=ROOT / "publishconf.py")
    parser.add_argument("--siteurl", default=os.environ.get("SITEURL") or None)
    parser.add_argument("--dry-run", action="store_true", help="print what would be sent")
    parser.add_argument("--smtp-host", default=os.environ.get("NOTIFY_SMTP_HOST", "localhost"))
    parser.add_argument(
        "--smtp-port", type=int, default=int(os.environ.get("NOTIFY_SMTP_PORT", "25"))
    )
    args = parser.parse_args(argv)

    settings = _settings(args.settings, args.siteurl)
    reply_address = settings.get("THREADS_REPLY_EMAIL", "")
    sender = os.environ.get("NOTIFY_FROM") or reply_address
    if not sender or not reply_address:
        print(
            "No address to send from: set THREADS_REPLY_EMAIL in pelicanconf.py (unsubscribe "
            "requests go there) or NOTIFY_FROM.",
            file=sys.stderr,
        )
        return 2
    path = args.subscribers or subscriber_file.default_path(args.content)
    try:
        subscribers = subscriber_file.load(path)
    except subscriber_file.SubscribersError as exc:
        print(exc, file=sys.stderr)
        return 2
    items = published_items(args.content, settings)
    site = settings.get("SITENAME", "the site")
    outgoing = []
    for subscriber in subscribers:
        item = items.get(subscriber.slug)
        if item is None:
            continue  # not published (yet), or gone
        replies = new_replies(subscriber, item)
        if not replies:
            continue
        if not ADDRESS.match(subscriber.address):
            print(f"Skipped a subscription to {subscriber.slug}: its address is not one")
            continue
        message = notice(subscriber, item, replies, sender, reply_address, site)
        outgoing.append((subscriber, replies, message))

    if args.dry_run:
        for _subscriber, _replies, message in outgoing:
            print(message.as_string())
            print("-" * 60)
        print(f"Dry run: {len(outgoing)} e-mail(s) would be sent; nothing sent or marked.")
        return 0
    if not outgoing:
        print("0 e-mails sent: no new published replies for any subscriber.")
        return 0
    sent = 0
    try:
        with smtplib.SMTP(args.smtp_host, args.smtp_port, timeout=30) as smtp:
            if os.environ.get("NOTIFY_SMTP_STARTTLS", "").lower() in ("yes", "1", "true"):
                smtp.starttls()
            if os.environ.get("NOTIFY_SMTP_USER"):
                smtp.login(
                    os.environ["NOTIFY_SMTP_USER"], os.environ.get("NOTIFY_SMTP_PASSWORD", "")
                )
            for subscriber, replies, message in outgoing:
                smtp.send_message(message)
                subscriber.sent.extend(r.id for r in replies)
                subscriber_file.save(path, subscribers)  # a later failure resends nothing
                sent += 1
    except (OSError, smtplib.SMTPException) as exc:
        print(
            f"Stopped after {sent} of {len(outgoing)} e-mail(s): the mail server at "
            f"{args.smtp_host}:{args.smtp_port} said {exc}. Check NOTIFY_SMTP_HOST and "
            "NOTIFY_SMTP_PORT; run make notify again to send the rest.",
            file=sys.stderr,
        )
        return 1
    print(f"{sent} e-mail(s) sent.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
