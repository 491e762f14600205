"""Withdraw a reply, a comment, or a whole thread or post at its author's request.

    python tools/takedown.py ITEM --reason "..." [--content content]

ITEM is `slug#reply-id` (a reply in a thread file or a comment file) or `slug`
(a whole thread or post), as the "Request removal" links' subjects carry it
(`[remove: slug#reply-id]`). The item is marked withdrawn in its source file and
its text is deleted from that file:

* a reply or comment keeps its id, parent and date (its place in the tree, so
  the replies below it stay, under a "withdrawn at the author's request"
  placeholder) and gets `moderation: withdrawn` and `reason:`; its author, body,
  e-mail, origin and every other field are gone;
* a thread or post keeps its slug, date, kind and category (its address, so
  links and replies to it still work): its title becomes "Withdrawn at the
  author's request", its opening text a line saying so, and its author, summary,
  tags, topics and old address (`Original-URL:`, the redirect maps) are gone.
  The asker's own replies in it are withdrawn with it; other people's replies
  stay (withdraw each one that must go too).

The next build has the text in no output file. The text is still in git
history and in the previous build kept for rollback: the command prints how to
purge both. An importer never writes over a withdrawn item, even with --force.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pelican.plugins.threads.parse import ID_RE, normalise, parse_comment, parse_thread  # noqa: E402

ITEM_RE = re.compile(r"^([a-z0-9][a-z0-9-]*)(?:#(?:reply-)?([A-Za-z0-9_-]{1,80}))?$")
WITHDRAWN_TITLE = "Withdrawn at the author's request"
WITHDRAWN_BODY = "*This was withdrawn at its author's request.*"
# What a withdrawn thread or post keeps of its metadata: its address and place.
KEEP_ITEM_FIELDS = ("slug", "date", "kind", "category", "status", "lang", "translation")
# What a withdrawn reply keeps: its place in the tree.
KEEP_REPLY_FIELDS = ("id", "parent", "date")
FOLDERS = ("threads", "posts", "pages")


class TakedownError(Exception):
    """The item cannot be withdrawn as asked; the message says why and what to do."""


def _slug_of(path: Path) -> str:
    for line in normalise(path.read_text(encoding="utf-8", errors="replace")).split("\n"):
        if not line.strip():
            break
        key, _, value = line.partition(":")
        if key.strip().lower() == "slug":
            return value.strip()
    return path.stem


def find_item(content: Path, slug: str) -> Path:
    for folder in FOLDERS:
        for path in sorted((content / folder).glob("*.md")):
            if _slug_of(path) == slug:
                return path
    raise TakedownError(
        f"no post, thread or page in {content} has the slug {slug!r}. Check ITEM: "
        "it is the part of the item's address after the year, e.g. below-current-pay"
    )


def _today() -> str:
    return datetime.now(tz=UTC).strftime("%Y-%m-%d")


def _one_line(text: str) -> str:
    return " ".join(text.split())[:300]


def _reply_header(fields: dict[str, str], reason: str, comment: bool) -> list[str]:
    kept = [(key, fields[key]) for key in KEEP_REPLY_FIELDS if fields.get(key)]
    kept += [("moderation", "withdrawn"), ("reason", f"{_today()}: {_one_line(reason)}")]
    if comment:
        return [f"{key.capitalize()}: {value}" for key, value in kept]
    return [f"{key}: {value}" for key, value in kept]


def _fields(lines: list[str]) -> dict[str, str]:
    fields = {}
    for line in lines:
        key, sep, value = line.partition(":")
        if sep and key.strip():
            fields.setdefault(key.strip().lower(), value.strip())
    return fields


def withdraw_reply(content: Path, slug: str, reply_id: str, reason: str) -> tuple[Path, str]:
    """Withdraw one reply; returns its file and the text taken out."""
    folder = content / "comments" / slug
    for path in sorted(folder.glob("*.md")) if folder.is_dir() else []:
        text = path.read_text(encoding="utf-8", errors="replace")
        reply, _ = parse_comment(text, str(path), default_id=path.stem)
        if reply.id != reply_id:
            continue
        lines = normalise(text).split("\n")
        end = next((n for n, line in enumerate(lines) if not line.strip()), len(lines))
        fields = _fields(lines[:end])
        fields.setdefault("id", path.stem)
        header = _reply_header(fields, reason, comment=True)
        path.write_text("\n".join(header) + "\n", encoding="utf-8")
        return path, reply.body
    thread = find_item(content, slug)
    text = thread.read_text(encoding="utf-8", errors="replace")
    parsed = parse_thread(text, str(thread))
    lines = normalise(text).split("\n")
    starts = [r.line for r in parsed.replies] + [len(lines) + 1]
    for reply, end in zip(parsed.replies, starts[1:], strict=True):
        if reply.id != reply_id:
            continue
        opener = lines[reply.line - 1]
        ticks = len(opener) - len(opener.lstrip("`"))
        header_end = reply.line + 1  # 1-based: the line that closes the header
        while header_end < end and not re.fullmatch(
            rf" {{0,3}}`{{{ticks},}}\s*", lines[header_end - 1]
        ):
            header_end += 1
        fields = _fields(lines[reply.line : header_end - 1])
        new = [opener, *_reply_header(fields, reason, comment=False), lines[header_end - 1], ""]
        rest = lines[end - 1 :]
        out = lines[: reply.line - 1] + new + rest
        thread.write_text("\n".join(out).rstrip("\n") + "\n", encoding="utf-8")
        return thread, reply.body
    raise TakedownError(
        f"no reply {reply_id!r} in {thread} or in {folder}. Check ITEM: the part after # "
        "is the reply's id, as in its permalink #reply-<id>"
    )


def withdraw_item(content: Path, slug: str, reason: str) -> tuple[Path, str]:
    """Withdraw a whole thread or post (its replies stay); returns its file and
    the text taken out (title, summary and opening text)."""
    path = find_item(content, slug)
    text = path.read_text(encoding="utf-8", errors="replace")
    lines = normalise(text).split("\n")
    end = next((n for n, line in enumerate(lines) if not line.strip()), len(lines))
    fields: list[tuple[str, str]] = []
    for line in lines[:end]:
        key, sep, value = line.partition(":")
        if sep:
            fields.append((key.strip(), value.strip()))
    by_key = {key.lower(): value for key, value in fields}
    gone = [by_key.get("title", ""), by_key.get("summary", "")]
    header = [f"Title: {WITHDRAWN_TITLE}"]
    if "slug" not in by_key:
        header.append(f"Slug: {slug}")
    header += [f"{key}: {value}" for key, value in fields if key.lower() in KEEP_ITEM_FIELDS]
    header += ["Autotopics: no", f"Withdrawn: {_today()}: {_one_line(reason)}"]
    if path.parent.name == "threads":
        parsed = parse_thread(text, str(path))
        first_reply = parsed.replies[0].line if parsed.replies else len(lines) + 1
        gone.append("\n".join(lines[end : first_reply - 1]))
        rest = lines[first_reply - 1 :] if parsed.replies else []
    else:
        gone.append("\n".join(lines[end:]))
        rest = []
    out = [*header, "", WITHDRAWN_BODY, ""] + ([*rest] if rest else [])
    path.write_text("\n".join(out).rstrip("\n") + "\n", encoding="utf-8")
    # The asker's own follow-ups in the thread go with it (they would name them).
    asker = by_key.get("author", "").strip().casefold()
    for reply_id in _replies_by(content, path, slug, asker) if asker else []:
        _, taken = withdraw_reply(content, slug, reply_id, reason)
        gone.append(taken)
    return path, "\n".join(g for g in gone if g.strip())


def _replies_by(content: Path, path: Path, slug: str, author: str) -> list[str]:
    """Ids of the replies `author` wrote to an item, in its file and comment files."""
    ids = []
    if path.parent.name == "threads":
        parsed = parse_thread(path.read_text(encoding="utf-8", errors="replace"), str(path))
        ids += [r.id for r in parsed.replies if r.author.strip().casefold() == author]
    for comment in sorted((content / "comments" / slug).glob("*.md")):
        text = comment.read_text(encoding="utf-8", errors="replace")
        reply, _ = parse_comment(text, str(comment), default_id=comment.stem)
        if reply.author.strip().casefold() == author:
            ids.append(reply.id)
    return ids


def purge_instructions(path: Path, taken: str) -> str:
    """How to take the text out of git history, with a replacement file for
    git filter-repo written outside the project (the owner deletes it after)."""
    phrases = sorted(
        {line.strip() for line in taken.split("\n") if len(line.strip()) >= 12}, key=len
    )
    handle, expressions = tempfile.mkstemp(prefix="takedown-", suffix=".txt")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        for phrase in reversed(phrases):  # longest first
            out.write(f"literal:{phrase}==>[withdrawn]\n")
    return f"""\
The text is out of {path}, so the next build has it in no page, feed, JSON-LD
block, sitemap, search index or redirect map. It is still in two places:

1. git history, if content/ is in git. Commit this change, then rewrite history
   with git filter-repo (https://github.com/newren/git-filter-repo):

     git commit -am "Withdraw an item at its author's request"
     git filter-repo --replace-text {expressions}
     git push --force --all && git push --force --tags

   {expressions} lists the withdrawn lines ({len(phrases)} of 12 characters or
   more); read it before running, then delete it: it holds the withdrawn text.
   Everyone with a clone must clone again; a hosting service may keep cached
   views of old commits until you ask its support to purge them.
2. the previous build, kept under .site-versions/ for a rollback. After the next
   `make publish`, run `make publish` once more (only the last two builds are
   kept), and upload the site again (`make rsync_upload` deletes what is gone).
   Search engines keep a copy until they crawl the page again; each has a form
   to ask for an outdated page to be refreshed."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 2)[2]
    )
    parser.add_argument("item", help="slug#reply-id (a reply or comment) or slug (a whole item)")
    parser.add_argument("--reason", required=True, help="why (kept in the source, never shown)")
    parser.add_argument("--content", type=Path, default=ROOT / "content")
    args = parser.parse_args(argv)
    match = ITEM_RE.match(args.item.strip())
    if not match or (match.group(2) and not ID_RE.match(match.group(2))):
        print(
            f"takedown: cannot read ITEM {args.item!r}. Write it as slug#reply-id "
            "(e.g. below-current-pay#p1) or slug, as in the removal request's subject.",
            file=sys.stderr,
        )
        return 2
    if not args.reason.strip():
        print('takedown: give a reason: REASON="asked by the author on ..."', file=sys.stderr)
        return 2
    slug, reply_id = match.group(1), match.group(2)
    try:
        if reply_id:
            path, taken = withdraw_reply(args.content, slug, reply_id, args.reason)
            what = f"reply {reply_id} of {slug}"
        else:
            path, taken = withdraw_item(args.content, slug, args.reason)
            what = slug
    except TakedownError as exc:
        print(f"takedown: {exc}.", file=sys.stderr)
        return 2
    print(f"Withdrew {what} in {path}: its text is deleted from the file.")
    print(purge_instructions(path, taken))
    return 0


if __name__ == "__main__":
    sys.exit(main())
