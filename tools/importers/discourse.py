"""A Discourse topic as JSON (`/t/ID.json`)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from .common import (
    ImportFailure,
    Item,
    Reply,
    Result,
    attach_orphans,
    html_to_markdown,
    make_ids_unique,
    one_line,
    slugify,
)
from .reddit import _load

REGULAR, MODERATOR_ACTION, SMALL_ACTION, WHISPER = 1, 2, 3, 4


def _date(value: str, where: str) -> datetime:
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (AttributeError, ValueError) as exc:
        raise ImportFailure(f"{where}: cannot read the date {value!r}") from exc


def parse(path: Path, category: str = "Imported", base_url: str = "") -> Result:
    data = _load(path)
    posts = data.get("post_stream", {}).get("posts") if isinstance(data, dict) else None
    if not posts or "title" not in data:
        raise ImportFailure(
            f"{path}: not a Discourse topic: expected the JSON of /t/ID.json "
            "with a title and post_stream.posts"
        )
    result = Result(source=str(path))
    topic_url = (
        f"{base_url.rstrip('/')}/t/{data.get('slug', '')}/{data.get('id')}" if base_url else ""
    )
    first, *rest = sorted(posts, key=lambda p: p.get("post_number", 0))
    referenced = {p.get("reply_to_post_number") for p in rest}
    replies = []
    for post in rest:
        number = post.get("post_number")
        where = f"{path}: post {number}"
        if post.get("post_type") in (MODERATOR_ACTION, SMALL_ACTION) or post.get("action_code"):
            result.counts["skipped: moderator action"] += 1
            continue
        if post.get("post_type") == WHISPER:
            result.counts["skipped: whisper (staff only)"] += 1
            continue
        gone = bool(post.get("deleted_at") or post.get("user_deleted") or post.get("hidden"))
        if gone and number not in referenced:
            result.counts["skipped: deleted, no replies"] += 1
            continue
        parent = post.get("reply_to_post_number")
        replies.append(
            Reply(
                id=f"p{number}",
                author="" if gone else one_line(post.get("name") or post.get("username"), 80),
                date=_date(post.get("created_at"), where),
                body="" if gone else html_to_markdown(post.get("cooked") or ""),
                parent=f"p{parent}" if parent and parent != 1 else None,
                moderation="removed" if gone else "published",
                origin=f"{topic_url}/{number}" if topic_url else "",
            )
        )
        result.counts["placeholders (deleted, with replies)" if gone else "replies"] += 1
    stream = data["post_stream"].get("stream") or []
    if len(stream) > len(posts):
        result.counts["replies not in the file"] += len(stream) - len(posts)
        result.warnings.append(
            f"{path}: the topic has {len(stream)} posts, the file "
            f"{len(posts)}; fetch the rest to import them"
        )
    make_ids_unique(replies, result.warnings, str(path))
    attach_orphans(replies, result.warnings, str(path))
    title = one_line(data.get("title")) or f"Discourse topic {data.get('id')}"
    result.items.append(
        Item(
            key=f"discourse:{data.get('id')}",
            kind="thread",
            title=title,
            slug=slugify(data.get("slug") or title, f"discourse-{data.get('id')}"),
            date=_date(first.get("created_at") or data.get("created_at"), f"{path}: post 1"),
            author=one_line(first.get("name") or first.get("username"), 80) or "Unknown",
            body=html_to_markdown(first.get("cooked") or ""),
            category=category,
            tags=[one_line(t, 60) for t in data.get("tags") or [] if isinstance(t, str)],
            original_url=topic_url,
            thread_kind="question",
            replies=replies,
            attribution=(
                f"Imported from the Discourse forum at {one_line(base_url, 200)}"
                if base_url
                else "Imported from a Discourse forum"
            )
            + ". Each post belongs to the person who wrote it, under that forum's terms; "
            "they are not covered by this site's licence.",
        )
    )
    result.counts["threads"] += 1
    return result
