"""WordPress WXR 1.0, 1.1 and 1.2 (http:// or https:// namespaces)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import urlsplit
from xml.etree.ElementTree import Element

from .common import (
    ImportFailure,
    Item,
    Reply,
    Result,
    attach_orphans,
    html_to_markdown,
    make_ids_unique,
    one_line,
    safe_id,
    slugify,
)
from .xmlread import local, read_xml

WP_NAMESPACE = re.compile(r"^https?://wordpress\.org/export/1\.[0-2]/$")
PREFIXES = {
    "http://purl.org/rss/1.0/modules/content/": "content",
    "http://wordpress.org/export/1.2/excerpt/": "excerpt",
    "http://purl.org/dc/elements/1.1/": "dc",
}
ZERO_DATE = "0000-00-00 00:00:00"
DRAFT_STATES = {"draft", "pending", "private", "future", "auto-draft"}


def _key(tag: str) -> str:
    namespace, name = local(tag)
    if WP_NAMESPACE.match(namespace):
        return f"wp:{name}"
    prefix = PREFIXES.get(namespace) or ("excerpt" if namespace.endswith("/excerpt/") else "")
    return f"{prefix}:{name}" if prefix else name


def _fields(element: Element) -> dict[str, list[Element]]:
    fields: dict[str, list[Element]] = {}
    for child in element:
        fields.setdefault(_key(child.tag), []).append(child)
    return fields


def _text(fields: dict[str, list[Element]], key: str) -> str:
    found = fields.get(key)
    return (found[0].text or "").strip() if found else ""


def _date(gmt: str, local_time: str, where: str) -> datetime | None:
    """The GMT date, or the blog's local time when GMT is empty or zero (drafts)."""
    for value, zone in ((gmt, UTC), (local_time, None)):
        if value and value != ZERO_DATE:
            try:
                parsed = datetime.strptime(value, "%Y-%m-%d %H:%M:%S")
            except ValueError as exc:
                raise ImportFailure(
                    f"{where}: cannot read the date {value!r}. Expected YYYY-MM-DD HH:MM:SS."
                ) from exc
            return parsed.replace(tzinfo=zone) if zone else parsed
    return None


def _merged(occurrences: list[dict[str, list[Element]]]) -> dict[str, list[Element]]:
    """One item from several <item>s with the same post id: the first non-empty
    value of each field wins; comments from all of them are kept."""
    merged: dict[str, list[Element]] = {}
    for fields in occurrences:
        for key, elements in fields.items():
            if key == "wp:comment":
                merged.setdefault(key, []).extend(elements)
            elif key not in merged or not any((e.text or "").strip() for e in merged[key]):
                merged[key] = elements
    return merged


def parse(path: Path, pingbacks: bool = False) -> Result:
    root = read_xml(path)
    channel = root.find("channel")
    if local(root.tag)[1] != "rss" or channel is None:
        raise ImportFailure(
            f"{path}: not a WordPress export (no <rss><channel>). Export it "
            "again from Tools > Export in WordPress."
        )
    if not any(WP_NAMESPACE.match(local(el.tag)[0]) for el in channel.iter()):
        raise ImportFailure(
            f"{path}: no WordPress export namespace (wordpress.org/export/1.x) "
            "found; this is an RSS feed, not a WXR export."
        )
    result = Result(source=str(path))
    # Post ids are only unique within one blog: the key carries the blog's host.
    site = urlsplit((channel.findtext("link") or "").strip()).netloc or "blog"
    authors = {}
    for element in channel:
        if _key(element.tag) == "wp:author":
            fields = _fields(element)
            login = _text(fields, "wp:author_login")
            authors[login] = one_line(_text(fields, "wp:author_display_name")) or login

    # Some exports repeat an <item> (a partial copy holding only comments): the
    # same post id with the same title, or none, is one post. Different titles
    # under one id are different posts.
    groups: dict[tuple[str, str], list[dict[str, list[Element]]]] = {}
    for number, element in enumerate(channel.findall("item"), 1):
        fields = _fields(element)
        post_id = _text(fields, "wp:post_id") or f"item-{number}"
        title = one_line(_text(fields, "title"))
        same = [k for k in groups if k[0] == post_id and (not title or not k[1] or k[1] == title)]
        key = same[0] if same else (post_id, title)
        if same and not key[1] and title:  # the untitled copy came first: take the title
            groups[(post_id, title)] = groups.pop(key)
            key = (post_id, title)
        if not same:
            taken = sum(1 for k in groups if k[0] == post_id)
            key = (post_id if not taken else f"{post_id}-{taken + 1}", title)
        groups.setdefault(key, []).append(fields)

    for (post_id, _title), occurrences in groups.items():
        fields = _merged(occurrences)
        title = one_line(_text(fields, "title"))
        where = f"{path}: item {post_id} ({title[:40]!r})"
        post_type = _text(fields, "wp:post_type")
        if not post_type:
            result.warnings.append(f"{where}: no wp:post_type; imported as a post")
            post_type = "post"
        if post_type not in ("post", "page"):
            result.counts[f"skipped: {post_type} (not a post or page)"] += 1
            continue
        if len(occurrences) > 1:
            result.warnings.append(f"{where}: appears {len(occurrences)} times; merged")
        status = _text(fields, "wp:status") or "publish"
        if status in ("trash", "inherit"):
            result.counts[f"skipped: post in {status}"] += 1
            continue
        draft = status in DRAFT_STATES or bool(_text(fields, "wp:post_password"))
        date = _date(_text(fields, "wp:post_date_gmt"), _text(fields, "wp:post_date"), where)
        replies = _comments(fields.get("wp:comment", []), where, pingbacks, result)
        if date is None and _text(fields, "pubDate"):
            try:
                date = parsedate_to_datetime(_text(fields, "pubDate"))
            except (TypeError, ValueError):
                date = None
        if date is None and replies:
            date = min(r.date.replace(tzinfo=None) for r in replies)
            result.warnings.append(f"{where}: no date of its own; dated by its first comment")
        if date is None:
            result.counts["skipped: no date"] += 1
            result.warnings.append(
                f"{where}: no date (wp:post_date_gmt, wp:post_date and "
                "pubDate are all empty); skipped. Add a date to import it."
            )
            continue
        categories = [c for c in fields.get("category", []) if c.get("domain") == "category"]
        tags = [
            one_line(c.text)
            for c in fields.get("category", [])
            if c.get("domain") == "post_tag" and c.text
        ]
        creator = _text(fields, "dc:creator")
        item = Item(
            key=f"wordpress:{site}:{post_type}:{post_id}",
            kind=post_type,
            title=title or f"Untitled {post_type} {post_id}",
            slug=slugify(_text(fields, "wp:post_name") or title, f"{post_type}-{post_id}"),
            date=date,
            author=authors.get(creator, one_line(creator)) or "Unknown",
            body=html_to_markdown(
                _text(fields, "content:encoded"), paragraphs_from_blank_lines=True
            ),
            category=one_line(categories[0].text) if categories else "",
            tags=sorted(set(tags)),
            status="draft" if draft else "published",
            original_url=_text(fields, "link"),
            summary=html_to_markdown(_text(fields, "excerpt:encoded")),
        )
        result.counts["drafts" if draft else f"{post_type}s"] += 1
        for reply in replies:  # a comment's own address, for credit and re-imports
            reply.origin = (
                f"{item.original_url}#comment-{reply.id[2:]}" if item.original_url else ""
            )
        item.replies = replies
        make_ids_unique(item.replies, result.warnings, where)
        attach_orphans(item.replies, result.warnings, where)
        result.items.append(item)
    return result


def _comments(elements: list[Element], where: str, pingbacks: bool, result: Result) -> list[Reply]:
    replies = []
    for element in elements:
        fields = _fields(element)
        comment_id = _text(fields, "wp:comment_id")
        kind = _text(fields, "wp:comment_type") or "comment"
        approved = _text(fields, "wp:comment_approved")
        if kind in ("pingback", "trackback") and not pingbacks:
            result.counts[f"skipped: {kind}"] += 1
            continue
        if approved == "spam":
            result.counts["skipped: spam"] += 1
            continue
        if approved in ("trash", "post-trashed"):
            result.counts["skipped: comment in trash"] += 1
            continue
        if approved == "1":
            moderation = "published"
        else:
            moderation = "pending"
            if approved != "0":
                result.warnings.append(
                    f"{where}: comment {comment_id} has approval {approved!r}; imported as pending"
                )
        parent = _text(fields, "wp:comment_parent")
        date = _date(
            _text(fields, "wp:comment_date_gmt"),
            _text(fields, "wp:comment_date"),
            f"{where} comment {comment_id}",
        )
        if date is None:
            result.counts["skipped: comment without a date"] += 1
            result.warnings.append(f"{where}: comment {comment_id} has no date; skipped")
            continue
        reply = Reply(
            id=safe_id(f"wp{comment_id or len(replies) + 1}"),
            author=one_line(_text(fields, "wp:comment_author"), 120) or "Anonymous",
            date=date,
            body=html_to_markdown(
                _text(fields, "wp:comment_content"), paragraphs_from_blank_lines=True
            )
            or "(empty comment)",
            parent=safe_id(f"wp{parent}") if parent and parent != "0" else None,
            moderation=moderation,
        )
        result.counts["pending replies" if moderation == "pending" else "replies"] += 1
        replies.append(reply)
    return replies
