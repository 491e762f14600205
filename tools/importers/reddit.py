"""A Reddit thread as JSON: the `[post listing, comment listing]` a thread URL
gives with `.json`, HTML-escaped (the default) or with `raw_json=1`."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

from .common import (
    ImportFailure,
    Item,
    Reply,
    Result,
    attach_orphans,
    make_ids_unique,
    one_line,
    safe_id,
    slugify,
    utc_from_timestamp,
)

GONE = {"[deleted]", "[removed]"}
SITE = "https://www.reddit.com"


def _load(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ImportFailure(
            f"{path}:{exc.lineno}:{exc.colno}: not valid JSON ({exc.msg}). Nothing was imported."
        ) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ImportFailure(f"{path}: cannot read it as UTF-8 text ({exc}).") from exc


def _permalink(path) -> str:
    """Reddit gives site-relative permalinks; anything else is not a link."""
    if isinstance(path, str) and re.fullmatch(r"/[\w/%.~-]*", path):
        return f"{SITE}{path}"
    return ""


def _escaped(listing_items: list[dict]) -> bool:
    """Without raw_json=1, Reddit escapes &, < and > in every text field."""
    for entry in listing_items:
        body_html = entry.get("data", {}).get("body_html") or entry.get("data", {}).get(
            "selftext_html"
        )
        if body_html:
            return body_html.lstrip().startswith("&lt;")
    return True  # nothing to tell by: the default form is the escaped one


def parse(path: Path, category: str = "Imported") -> Result:
    data = _load(path)
    if not (
        isinstance(data, list)
        and len(data) == 2
        and all(isinstance(x, dict) and x.get("kind") == "Listing" for x in data)
    ):
        raise ImportFailure(
            f"{path}: not a Reddit thread: expected the two listings "
            "[post, comments] that a thread URL gives with .json"
        )
    posts = data[0]["data"].get("children", [])
    if not posts or posts[0].get("kind") != "t3":
        raise ImportFailure(f"{path}: the first listing holds no post (kind t3)")
    post = posts[0]["data"]
    comments = data[1]["data"].get("children", [])
    unescape = html.unescape if _escaped(posts + comments) else (lambda s: s)
    result = Result(source=str(path))

    # Walk the comment tree with a stack (no recursion), parents before children.
    flat: list[tuple[dict, str | None]] = []
    stubs = missing = 0
    stack = [(c, None) for c in reversed(comments)]
    while stack:
        entry, parent = stack.pop()
        kind, body = entry.get("kind"), entry.get("data", {})
        if kind == "more":
            stubs += 1
            missing += max(int(body.get("count") or 0), len(body.get("children") or []))
            continue
        if kind != "t1":
            continue
        flat.append((body, parent))
        replies = body.get("replies")
        if isinstance(replies, dict):
            children = replies.get("data", {}).get("children", [])
            stack.extend((c, body.get("id")) for c in reversed(children))

    has_children = {parent for _body, parent in flat if parent}
    replies: list[Reply] = []
    for body, parent in flat:
        text = unescape(body.get("body") or "")
        author = body.get("author") or "[deleted]"
        gone = text.strip() in GONE or (author in GONE and not text.strip())
        if gone and body.get("id") not in has_children:
            result.counts["skipped: deleted or removed, no replies"] += 1
            continue
        replies.append(
            Reply(
                id=safe_id(body.get("id") or f"r{len(replies) + 1}"),
                author="" if gone else f"u/{one_line(author, 80)}",
                date=utc_from_timestamp(body.get("created_utc") or post.get("created_utc") or 0),
                body="" if gone else text,
                parent=safe_id(parent) if parent else None,
                moderation="removed" if gone else "published",
                origin=_permalink(body.get("permalink")),
            )
        )
        result.counts["placeholders (deleted, with replies)" if gone else "replies"] += 1
    if stubs:
        result.counts["replies not in the file ('more' stubs)"] += missing
        result.warnings.append(
            f"{path}: {stubs} 'more'/'continue this thread' stubs stand for "
            f"{missing} replies that are not in the file; fetch them from "
            "Reddit to import them"
        )
    where = f"{path}: thread {post.get('id')}"
    make_ids_unique(replies, result.warnings, where)
    attach_orphans(replies, result.warnings, where)

    title = one_line(unescape(post.get("title") or "")) or f"Reddit thread {post.get('id')}"
    selftext = unescape(post.get("selftext") or "")
    if selftext.strip() in GONE:
        selftext = "*The opening post was deleted on Reddit.*"
    if not post.get("is_self", True) and post.get("url"):
        link = unescape(post["url"])
        selftext = f"<{link}>\n\n{selftext}".strip()
    author = post.get("author") or "[deleted]"
    result.items.append(
        Item(
            key=f"reddit:{post.get('id')}",
            kind="thread",
            title=title,
            slug=slugify(title, f"reddit-{post.get('id')}"),
            date=utc_from_timestamp(post.get("created_utc") or 0),
            author=f"u/{author}" if author not in GONE else "[deleted]",
            body=selftext,
            category=category,
            tags=[post["subreddit"]]
            if re.fullmatch(r"\w{2,30}", post.get("subreddit") or "")
            else [],
            original_url=_permalink(post.get("permalink")),
            thread_kind="question",
            replies=replies,
            attribution=_attribution(post.get("subreddit") or ""),
        )
    )
    result.counts["threads"] += 1
    return result


def _attribution(subreddit: str) -> str:
    where = f"Reddit (r/{subreddit})" if re.fullmatch(r"\w{2,30}", subreddit) else "Reddit"
    return (
        f"Imported from {where}. Each post belongs to the person who wrote it, shown under "
        "their user name there and Reddit's User Agreement; they are not covered by this "
        "site's licence."
    )
