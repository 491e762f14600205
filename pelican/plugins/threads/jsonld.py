"""schema.org JSON-LD for thread pages and posts with comments.

Follows Google's QAPage and DiscussionForumPosting documentation. Built with
loops, not recursion: a reply deeper than `MAX_NESTING` attaches to its
ancestor at that depth, so every reply is present and the document stays
shallow enough for any JSON parser.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime

from .model import Reply, Thread, walk
from .render import plain_text

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
        # The reply's plain text, from its HTML: the `text` the build kept for
        # tagging is dropped before pages are written.
        "text": plain_text(reply.html),
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
    """QAPage for a question with at least one answer; DiscussionForumPosting for a
    discussion, and for a question nobody has answered yet (a QAPage must have an
    answer: search engines take one without as ineligible, not as unanswered)."""
    url = _absolute(site_url, article.url)
    author = _person(thread.asker) if thread.asker else None  # withdrawn: no asker
    if thread.kind == "question" and thread.answer_count:
        question = {
            "@type": "Question",
            "name": article.title,
            "text": text,
            "answerCount": thread.answer_count,
            "datePublished": _iso(article.date),
            "author": author,
            "url": url,
        }
        if author is None:
            del question["author"]
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
    if author is None:
        del posting["author"]
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
        "url": _absolute(site_url, article.url),
    }
    if getattr(article, "author", None):  # a withdrawn post has none
        posting["author"] = _person(article.author.name)
    if thread is not None and thread.replies:
        posting["commentCount"] = thread.reply_count
        _attach_replies(thread, posting, site_url, question=False)
    return posting


def dumps(data: dict) -> str:
    """JSON safe to place inside <script>: no '<', '>' or '&' survives raw."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


class Deferred:
    """JSON-LD built when its page is rendered, and not kept.

    Built during the build's serial steps and kept for every item, a thread's
    JSON-LD (which repeats every reply's text) cost time on one core and memory
    until the end. Built here, it is made by whichever process writes the page,
    from the item as it is then (every permalink and date final). Jinja's
    `safe` filter (and autoescaping) take the text from `__html__`.
    """

    __slots__ = ("_build",)

    def __init__(self, build: Callable[[], dict]) -> None:
        self._build = build

    def __str__(self) -> str:
        return dumps(self._build())

    __html__ = __str__

    def __bool__(self) -> bool:
        return True


def with_license(data: dict, article, license_url: str) -> dict:
    """The site's licence (LICENSE_URL) as `license` of its own writing; an
    item imported from a community (it carries `Attribution:`) is its writers'."""
    if license_url and not getattr(article, "attribution", ""):
        target = data.get("mainEntity", data)
        target["license"] = license_url
    return data


def with_keywords(data: dict, article) -> dict:
    """The item's tags as `keywords`: the theme no longer lists them on the page
    (topics are the way through subjects), and this is where they still say
    what the author filed the item under."""
    names = [tag.name for tag in getattr(article, "tags", None) or ()]
    if names:
        data.get("mainEntity", data)["keywords"] = names
    return data


def for_thread(article, thread: Thread, site_url: str, license_url: str = "") -> Deferred:
    return Deferred(
        lambda: with_keywords(
            with_license(
                thread_jsonld(article, thread, site_url, plain_text(article.content)),
                article,
                license_url,
            ),
            article,
        )
    )


def for_post(article, thread: Thread | None, site_url: str, license_url: str = "") -> Deferred:
    return Deferred(
        lambda: with_keywords(
            with_license(post_jsonld(article, thread, site_url), article, license_url), article
        )
    )
