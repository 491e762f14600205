"""Import posts, threads and replies from other platforms into content/.

    python tools/import_content.py SOURCE FILE [--content content] [--force] [--dry-run]

SOURCE is wordpress, reddit, disqus, discourse, email (replies, and questions
sent through the site's Ask page, which become pending question threads) or
form (the same, from a form service's JSON or CSV export). The whole file is
read first; if anything in it is malformed, nothing is written and the command
exits with 2 and a message naming the file, line and problem. Then posts,
pages and threads are written as Markdown files, replies as thread replies or
comment files, and a summary says what was imported, pending and skipped.
Importing the same file again changes nothing.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tools import subscribers as subscriber_file  # noqa: E402
from tools.importers import discourse, disqus, email_in, forms, reddit, wordpress  # noqa: E402
from tools.importers.common import ImportFailure, Result, clean_result  # noqa: E402
from tools.importers.writer import FOLDERS, Writer, read_header  # noqa: E402
from tools.progress import Progress  # noqa: E402

SOURCES = ("wordpress", "reddit", "disqus", "discourse", "email", "form")


def known_addresses(content: Path) -> dict[str, list[str]]:
    """slug -> URL paths it is known by: its own (YYYY/slug) and its Original-URL's."""
    from urllib.parse import urlsplit

    targets: dict[str, list[str]] = {}
    for folder in FOLDERS.values():
        for path in sorted((content / folder).glob("*.md")):
            header = read_header(path)
            slug = header.get("slug", path.stem)
            addresses = [f"{header.get('date', '')[:4]}/{slug}", slug]
            if header.get("original-url"):
                addresses.append(urlsplit(header["original-url"]).path.strip("/"))
            targets[slug] = addresses
    return targets


def known_messages(content: Path) -> dict[str, tuple[str, str]]:
    """Message-Id -> (slug, reply id) of the e-mailed replies already imported."""
    known = {}
    for path in sorted((content / "comments").glob("*/*.md")):
        header = read_header(path)
        if header.get("message-id"):
            known[header["message-id"]] = (path.parent.name, header.get("id", path.stem))
    return known


def read(source: str, path: Path, content: Path, args) -> Result:
    """Run one importer; anything it did not expect becomes a clear ImportFailure."""
    try:
        result = _read(source, path, content, args)
        clean_result(result)
        return result
    except ImportFailure:
        raise
    except (KeyError, IndexError, TypeError, AttributeError, ValueError, UnicodeError) as exc:
        raise ImportFailure(
            f"{path}: not a {source} export this importer understands "
            f"({type(exc).__name__}: {str(exc)[:120]}). Check the file's format."
        ) from exc


def _read(source: str, path: Path, content: Path, args) -> Result:
    if not path.is_file():
        raise ImportFailure(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise ImportFailure(f"{path}: the file is empty (0 bytes). Export it again.")
    if source == "wordpress":
        return wordpress.parse(path, pingbacks=args.pingbacks)
    if source == "reddit":
        return reddit.parse(path, category=args.category or "Imported")
    if source == "discourse":
        return discourse.parse(path, category=args.category or "Imported", base_url=args.base_url)
    if source == "disqus":
        return disqus.parse(path, known_addresses(content))
    key_file = getattr(args, "privacy_key", None) or content.resolve().parent / ".privacy-key"
    if source == "form":
        return forms.parse(
            path, email_in.load_key(key_file), category=args.category or "The Search"
        )
    return email_in.parse(
        path,
        known_messages(content),
        email_in.load_key(key_file),
        category=args.category or "The Search",
    )


def summary(result: Result, writer: Writer) -> str:
    lines = [
        f"Imported from {result.source}"
        + (" (dry run: nothing written)" if writer.dry_run else "")
        + ":"
    ]
    for key in sorted(result.counts):
        lines.append(f"  {key}: {result.counts[key]}")
    lines.append("Files: " + ", ".join(f"{v} {k}" for k, v in sorted(writer.outcomes.items())))
    for message in result.warnings + writer.messages:
        lines.append(f"  note: {message}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 2)[2]
    )
    parser.add_argument("source", choices=SOURCES)
    parser.add_argument("file", type=Path, help="the export file (.xml, .json, .csv, .eml or mbox)")
    parser.add_argument(
        "--content",
        type=Path,
        default=ROOT / "content",
        help="content folder to write into (default: content/)",
    )
    parser.add_argument(
        "--force", action="store_true", help="overwrite files changed since they were imported"
    )
    parser.add_argument("--dry-run", action="store_true", help="write nothing; show the summary")
    parser.add_argument(
        "--pingbacks",
        action="store_true",
        help="wordpress: import pingbacks and trackbacks as replies too",
    )
    parser.add_argument(
        "--category",
        default=None,
        help="reddit, discourse: category of the imported thread (default: Imported); "
        "email: of questions sent through the Ask page (default: The Search)",
    )
    parser.add_argument(
        "--base-url", default="", help="discourse: the forum's address, to link the original topic"
    )
    parser.add_argument(
        "--privacy-key",
        type=Path,
        default=None,
        help="email: the secret file that makes senders' handles (default: .privacy-key "
        "beside the content folder, made on first use; keep it, and out of git)",
    )
    parser.add_argument(
        "--subscribers",
        type=Path,
        default=None,
        help="email, form: the file that keeps the addresses of readers who asked for "
        "replies by e-mail (default: .subscribers.json beside the content folder; never "
        "publish or commit it)",
    )
    args = parser.parse_args(argv)

    with Progress() as progress:
        try:
            with progress.phase("Reading the export"):
                result = read(args.source, args.file, args.content, args)
        except ImportFailure as exc:
            failed = exc
        else:
            failed = None
            writer = Writer(args.content, force=args.force, dry_run=args.dry_run)
            for item in progress.track(result.items, "Writing posts, pages and threads"):
                writer.item(item)
            for slug, replies in progress.track(result.attach.items(), "Writing comment files"):
                writer.comments(slug, replies)
    if failed:
        print(f"Import failed, nothing was written: {failed}", file=sys.stderr)
        return 2
    try:
        notes = keep_subscriptions(result, args)
    except subscriber_file.SubscribersError as exc:
        print(f"Subscriptions not saved: {exc}", file=sys.stderr)
        return 2
    print(summary(result, writer))
    for note in notes:
        print(f"  note: {note}")
    return 0


def keep_subscriptions(result: Result, args) -> list[str]:
    """Notification requests and unsubscribe requests, in the subscribers file
    (outside content/). Returns what to tell the owner, never an address."""
    if not result.subscriptions and not result.unsubscribe:
        return []
    path = args.subscribers or subscriber_file.default_path(args.content)
    entries = subscriber_file.load(path)
    notes, now = [], datetime.now(tz=UTC)
    for wanted in result.subscriptions:
        slug = wanted.item.slug if wanted.item is not None else wanted.slug
        since = wanted.since or now
        if subscriber_file.add(entries, wanted.address, wanted.name, slug, since):
            notes.append(f"{wanted.name} will be e-mailed new replies to {slug} (make notify)")
    for token in result.unsubscribe:
        gone = subscriber_file.remove(entries, token)
        notes.append(
            f"{gone.name} no longer gets replies to {gone.slug}"
            if gone
            else "an unsubscribe request matched no subscription (already removed?)"
        )
    if not args.dry_run:
        subscriber_file.save(path, entries)
    return notes


if __name__ == "__main__":
    sys.exit(main())
