"""schema.org JSON-LD for thread pages and posts with comments.

Follows Google's QAPage and DiscussionForumPosting documentation. Built with
loops, not recursion: a reply deeper than `MAX_NESTING` attaches to its
ancestor at that depth, so every reply is present and the document stays
shallow enough for any JSON parser.
"""

from __future__ import annotations

import json
import zlib
from datetime import datetime

from .model import Reply, Thread, walk

MAX_NESTING = 8


def _person(name: str) -> dict:
    return {"@type": "Person", "name": name}


def _absolute(site_url: str, url: str) -> str:
    if url.startswith(("http://", "https://")):
        return url
    return f"{site_url.rstrip('/')}/{url.lstrip('/')}" if site_url else url


def _iso(date: datetime) -> str:
    return date.isoformat()


def _reply_node(reply: Reply, type_: str, site_url: str) -> dict:
    return {
        "@type": type_,
        "text": reply.text,
        "author": _person(reply.author),
        "datePublished": _iso(reply.date),
        "url": _absolute(site_url, reply.url),
    }


def _attach_replies(thread: Thread, top: dict, site_url: str, question: bool) -> None:
    """Hang every reply under its parent's node (or the nearest allowed one)."""
    nodes: dict[int, tuple[dict, int]] = {}  # id(reply) -> (node its children join, depth)
    for reply in walk(thread.roots):
        holder, depth = (top, 0) if reply.parent is None else nodes[id(reply.parent)]
        if reply.removed:
            nodes[id(reply)] = (holder, depth)  # its children take its place
            continue
        is_answer = question and reply.is_answer
        node = _reply_node(reply, "Answer" if is_answer else "Comment", site_url)
        if is_answer:
            key = "acceptedAnswer" if reply.accepted else "suggestedAnswer"
            if reply.accepted:
                top[key] = node
            else:
                top.setdefault(key, []).append(node)
        else:
            holder.setdefault("comment", []).append(node)
        nodes[id(reply)] = (node, depth + 1) if depth + 1 < MAX_NESTING else (holder, depth)


def thread_jsonld(article, thread: Thread, site_url: str, text: str) -> dict:
    """QAPage for a question, DiscussionForumPosting for a discussion."""
    url = _absolute(site_url, article.url)
    author = _person(thread.asker)
    if thread.kind == "question":
        question = {
            "@type": "Question",
            "name": article.title,
            "text": text,
            "answerCount": thread.answer_count,
            "datePublished": _iso(article.date),
            "author": author,
            "url": url,
        }
        _attach_replies(thread, question, site_url, question=True)
        return {"@context": "https://schema.org", "@type": "QAPage", "mainEntity": question}
    posting = {
        "@context": "https://schema.org",
        "@type": "DiscussionForumPosting",
        "headline": article.title,
        "text": text,
        "datePublished": _iso(article.date),
        "dateModified": _iso(thread.last_activity),
        "author": author,
        "url": url,
        "commentCount": thread.reply_count,
    }
    _attach_replies(thread, posting, site_url, question=False)
    return posting


def post_jsonld(article, thread: Thread | None, site_url: str) -> dict:
    """BlogPosting, with the comment tree when the post has comments."""
    modified = getattr(article, "modified", None) or article.date
    posting = {
        "@context": "https://schema.org",
        "@type": "BlogPosting",
        "headline": article.title,
        "datePublished": _iso(article.date),
        "dateModified": _iso(modified),
        "author": _person(article.author.name),
        "url": _absolute(site_url, article.url),
    }
    if thread is not None and thread.replies:
        posting["commentCount"] = thread.reply_count
        _attach_replies(thread, posting, site_url, question=False)
    return posting


def dumps(data: dict) -> str:
    """JSON safe to place inside <script>: no '<', '>' or '&' survives raw."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


class Packed:
    """JSON-LD kept compressed until its page is rendered.

    A thread's JSON-LD repeats every reply's text; kept as plain strings for
    the whole build, it would be one more copy of every reply in memory.
    Jinja's `safe` filter (and autoescaping) take the text from `__html__`.
    """

    __slots__ = ("_data",)

    def __init__(self, text: str) -> None:
        self._data = zlib.compress(text.encode("utf-8"), 1)

    def __str__(self) -> str:
        return zlib.decompress(self._data).decode("utf-8")

    __html__ = __str__

    def __bool__(self) -> bool:
        return True


def packed(data: dict) -> Packed:
    return Packed(dumps(data))
