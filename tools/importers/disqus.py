"""A Disqus XML export: threads, posts, parents, isDeleted, isSpam.

Each Disqus thread is matched to a post or thread already in content/ by its
<link> path or slug; threads that match nothing are listed, never guessed.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from .common import (
    ImportFailure,
    Reply,
    Result,
    attach_orphans,
    html_to_markdown,
    make_ids_unique,
    one_line,
    safe_id,
)
from .xmlread import read_xml

NS = "{http://disqus.com}"
DSQ_ID = "{http://disqus.com/disqus-internals}id"


def _text(element, name: str) -> str:
    found = element.find(f"{NS}{name}")
    return (found.text or "").strip() if found is not None else ""


def _date(value: str, where: str) -> datetime:
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ImportFailure(
            f"{where}: cannot read the date {value!r}; nothing was imported"
        ) from exc


def match(link: str, identifier: str, targets: dict[str, list[str]]) -> str | None:
    """The slug whose addresses include the thread's link path, or its identifier."""
    path = urlsplit(link).path.strip("/") if link else ""
    for slug, addresses in targets.items():
        if path and (path in addresses or path.rsplit("/", 1)[-1] == slug):
            return slug
        if identifier and identifier in (slug, *addresses):
            return slug
    return None


def parse(path: Path, targets: dict[str, list[str]]) -> Result:
    """`targets`: slug -> the URL paths it is known by (its own, its original)."""
    root = read_xml(path)
    if root.tag != f"{NS}disqus":
        raise ImportFailure(
            f"{path}: not a Disqus export (the root element is not <disqus> "
            "in the http://disqus.com namespace)"
        )
    result = Result(source=str(path))
    threads = {}
    for thread in root.findall(f"{NS}thread"):
        threads[thread.get(DSQ_ID)] = (
            _text(thread, "link"),
            _text(thread, "id"),
            one_line(_text(thread, "title")),
        )
    by_thread: dict[str, list[tuple[Reply, set]]] = {}
    posts = root.findall(f"{NS}post")
    parents = {}
    for post in posts:
        parent = post.find(f"{NS}parent")
        if parent is not None:
            parents[post.get(DSQ_ID)] = parent.get(DSQ_ID)
    for post in posts:
        post_id = post.get(DSQ_ID) or ""
        where = f"{path}: post {post_id}"
        if _text(post, "isSpam") == "true":
            result.counts["skipped: spam"] += 1
            continue
        thread = post.find(f"{NS}thread")
        thread_id = thread.get(DSQ_ID) if thread is not None else None
        if thread_id not in threads:
            result.counts["skipped: post on a thread not in the file"] += 1
            result.warnings.append(f"{where}: its thread ({thread_id}) is not in the file")
            continue
        deleted = _text(post, "isDeleted") == "true"
        if deleted and post_id not in parents.values():
            result.counts["skipped: deleted, no replies"] += 1
            continue
        author = post.find(f"{NS}author")
        name = one_line(_text(author, "name"), 80) if author is not None else ""
        reply = Reply(
            id=safe_id(f"dq{post_id}"),
            author="" if deleted else (name or "Anonymous"),
            date=_date(_text(post, "createdAt"), where),
            body="" if deleted else html_to_markdown(_text(post, "message")),
            parent=safe_id(f"dq{parents[post_id]}") if post_id in parents else None,
            moderation="removed" if deleted else "published",
            origin=f"disqus:{post_id}",
        )
        by_thread.setdefault(thread_id, []).append(reply)
    for thread_id, replies in by_thread.items():
        link, identifier, title = threads[thread_id]
        slug = match(link, identifier, targets)
        if slug is None:
            result.counts["skipped: replies on unmatched threads"] += len(replies)
            result.warnings.append(
                f"{path}: Disqus thread {thread_id} ({title or 'untitled'}, {link or 'no link'}) "
                f"matches no post or thread in content/; its {len(replies)} replies were not "
                "imported. Give the post `Original-URL: <that link>` and import again."
            )
            continue
        make_ids_unique(replies, result.warnings, f"{path}: thread {thread_id}")
        attach_orphans(replies, result.warnings, f"{path}: thread {thread_id}")
        result.attach.setdefault(slug, []).extend(replies)
        for reply in replies:
            result.counts[
                "placeholders (deleted, with replies)"
                if reply.moderation == "removed"
                else "replies"
            ] += 1
    return result
