"""Place replies in one tree per post or thread, and count what readers see.

Pure functions. The tree is built in time linear in the number of replies
(plus sorting each reply's children) and walked with explicit stacks, never
recursion, so a chain thousands of replies deep is as safe as a flat one.
"""

from __future__ import annotations

import difflib
import pickle
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from itertools import pairwise

from .parse import GONE_STATES, Problem, RawReply

KINDS = ("question", "discussion", "post")


_NO_LINES: dict[str, int] = {}  # never written to: see the end of build_thread
_NO_NOTES: tuple[str, ...] = ()


@dataclass(eq=False, slots=True)
class Reply:
    id: str
    author: str
    date: datetime
    html: str
    text: str
    source: str
    line: int
    parent: Reply | None = None
    children: list[Reply] = field(default_factory=list)
    depth: int = 1
    accepted: bool = False
    removed: bool = False
    withdrawn: bool = False  # removed at its author's request (`make takedown`)
    is_op: bool = False
    is_answer: bool = False
    origin: str = ""
    origin_url: str = ""  # origin, when it is a plain http(s) address to link to
    field_lines: dict[str, int] = field(default_factory=dict)
    notes: list[str] | tuple[str, ...] = field(default_factory=list)
    url: str = ""  # permalink, set when pages are laid out
    continuation_url: str = ""  # the page its replies continue on, past the depth limit
    initials: str = ""  # avatar: set by the plugin from the author's name
    hue: int = 0
    update: bool = False  # the asker's news of what happened next (`update: yes`)

    @property
    def anchor(self) -> str:
        return f"reply-{self.id}"

    def line_of(self, key: str) -> int:
        """The line of a field, or of the reply's header when it is absent."""
        return self.field_lines.get(key, self.line)

    @property
    def descendant_count(self) -> int:
        count, stack = 0, list(self.children)
        while stack:
            node = stack.pop()
            count += 1
            stack.extend(node.children)
        return count


@dataclass
class Thread:
    """A post's or thread's replies. Built once by `build_thread` and not
    changed after: what listings ask of it on every page (counts, state, last
    activity) is worked out on first use and kept."""

    kind: str
    asker: str
    opened: datetime
    roots: list[Reply]
    replies: list[Reply]  # every shown reply, in reading order
    accepted: Reply | None = None
    pending: int = 0

    @cached_property
    def visible(self) -> list[Reply]:
        return [r for r in self.replies if not r.removed]

    @cached_property
    def reply_count(self) -> int:
        return len(self.visible)

    @property
    def shown_count(self) -> int:
        """Every shown reply, removed ones' placeholders included."""
        return len(self.replies)

    @cached_property
    def answers(self) -> list[Reply]:
        return [r for r in self.roots if r.is_answer]

    @property
    def answer_count(self) -> int:
        return len(self.answers)

    @cached_property
    def answered(self) -> bool:
        return any(not r.is_op for r in self.visible)

    @property
    def solved(self) -> bool:
        return self.accepted is not None

    @cached_property
    def last_activity(self) -> datetime:
        return max([self.opened, *(r.date for r in self.visible)])

    @cached_property
    def latest_update(self) -> Reply | None:
        """The asker's newest update (`update: yes`), shown at the thread's top."""
        updates = [r for r in self.visible if r.update]
        return max(updates, key=lambda r: (r.date, r.id)) if updates else None

    @property
    def op_followups(self) -> list[Reply]:
        return [r for r in self.roots if r.is_op and not r.removed]


def walk(roots: Iterable[Reply]) -> list[Reply]:
    """Pre-order, children in their stored order, without recursion."""
    out: list[Reply] = []
    stack = list(reversed(list(roots)))
    while stack:
        node = stack.pop()
        out.append(node)
        stack.extend(reversed(node.children))
    return out


def build_thread(
    kind: str,
    asker: str,
    opened: datetime,
    raws: list[RawReply],
    parse_date: Callable[[str], datetime],
    render: Callable[[str], tuple[str, str]],
    link: Callable[[str], str] | None = None,
) -> tuple[Thread, list[Problem]]:
    """Build the reply tree.

    `parse_date` turns a reply's date text into an aware datetime (raising
    ValueError when it cannot); `render` turns a Markdown body into
    (sanitised HTML, plain text); `link` returns an origin that is safe to
    link to, or "". Every reply either ends up in the tree or
    in a Problem: a reply that cannot be placed goes under the opening post
    with a visible note.
    """
    problems: list[Problem] = []
    asker_key = asker.strip().casefold()

    # Pending replies are held back, and so is everything that answers them.
    held = {r.id for r in raws if r.moderation == "pending"}
    pending = sum(1 for r in raws if r.moderation == "pending")  # ids may repeat
    live: list[RawReply] = []
    by_raw_id = {r.id: r for r in raws}
    for raw in raws:
        if raw.moderation == "pending":
            continue
        ancestor, seen = raw.parent, {raw.id}
        while ancestor and ancestor not in seen and ancestor in by_raw_id:
            if ancestor in held:
                break
            seen.add(ancestor)
            ancestor = by_raw_id[ancestor].parent
        if ancestor in held:
            held.add(raw.id)
            pending += 1
            problems.append(
                Problem(
                    raw.source,
                    raw.line_of("parent"),
                    f"reply {raw.id} answers reply {ancestor}, which is pending, "
                    "so it is held back too",
                    f"Publish {ancestor} (Moderation: published) "
                    f"or move {raw.id} to another parent.",
                    severity="warning",
                )
            )
            continue
        live.append(raw)

    nodes: dict[str, Reply] = {}
    parents: dict[str, str | None] = {}
    for raw in live:
        reply_id = raw.id
        if reply_id in nodes:
            n = 2
            while f"{raw.id}-{n}" in nodes or f"{raw.id}-{n}" in by_raw_id:
                n += 1
            reply_id = f"{raw.id}-{n}"
            first = nodes[raw.id]
            problems.append(
                Problem(
                    raw.source,
                    raw.line_of("id"),
                    f"reply id {raw.id} is already used at {first.source}:{first.line}",
                    f"Give this reply another id; it is shown as {reply_id} until then.",
                )
            )
        try:
            date = parse_date(raw.date) if raw.date else opened
        except (ValueError, OverflowError):
            problems.append(
                Problem(
                    raw.source,
                    raw.line_of("date"),
                    f"cannot read the date {raw.date!r} of reply {reply_id}",
                    "Write it as YYYY-MM-DD HH:MM, e.g. 2026-03-04 18:20.",
                )
            )
            date = opened
        removed = raw.moderation in GONE_STATES
        body_html, text = ("", "") if removed else render(raw.body)
        node = Reply(
            origin_url=link(raw.origin) if link and not removed else "",
            id=reply_id,
            author="" if removed else (raw.author.strip() or "[no author]"),
            date=date,
            html=body_html,
            text=text,
            source=raw.source,
            line=raw.line,
            removed=removed,
            withdrawn=raw.moderation == "withdrawn",
            origin="" if removed else raw.origin,
            field_lines=raw.field_lines,
        )
        node.accepted = raw.accepted and not removed
        node.update = raw.update and not removed
        nodes[reply_id] = node
        parents[reply_id] = raw.parent

    roots: list[Reply] = []
    for reply_id, node in nodes.items():
        parent_id = parents[reply_id]
        if parent_id is None:
            roots.append(node)
        elif parent_id in nodes and parent_id != reply_id:
            node.parent = nodes[parent_id]
            node.parent.children.append(node)
        else:
            hint = difflib.get_close_matches(parent_id, list(nodes), n=1)
            fix = f"Did you mean `parent: {hint[0]}`?" if hint else "Fix `parent:` or remove it."
            if parent_id == reply_id:
                fix = "A reply cannot answer itself: fix `parent:`."
            problems.append(
                Problem(
                    node.source,
                    node.line_of("parent"),
                    f"reply {reply_id} answers {parent_id!r}, which is not in this thread",
                    fix,
                )
            )
            node.notes.append("This reply answers a reply that is not here; shown under the post.")
            roots.append(node)

    # Anything not reachable from the roots sits on a cycle (or below one).
    reached = {id(n) for n in walk(roots)}
    for node in nodes.values():
        if id(node) in reached:
            continue
        path, seen, cursor = [], set(), node
        while id(cursor) not in seen:  # every unreached reply has a parent
            seen.add(id(cursor))
            path.append(cursor)
            cursor = cursor.parent
        cycle = path[path.index(cursor) :]
        problems.append(
            Problem(
                cursor.source,
                cursor.line_of("parent"),
                f"replies {' -> '.join(c.id for c in cycle)} answer each other in a circle",
                f"Fix the `parent:` of one of them; "
                f"{cursor.id} is shown under the post until then.",
            )
        )
        cursor.parent.children.remove(cursor)
        cursor.parent = None
        cursor.notes.append("This reply's parent chain loops; shown under the post.")
        roots.append(cursor)
        reached.update(id(n) for n in walk([cursor]))

    def order(reply: Reply) -> tuple:
        return (reply.date, reply.id)

    roots.sort(key=order)
    replies = walk(roots)
    for node in replies:
        node.children.sort(key=order)
    replies = walk(roots)

    accepted: Reply | None = None
    for node in replies:
        node.depth = 1 if node.parent is None else node.parent.depth + 1
        node.is_op = bool(asker_key) and node.author.casefold() == asker_key
        node.is_answer = (
            kind == "question" and node.parent is None and not node.is_op and not node.removed
        )
        if node.update and not node.is_op:
            who = f"the asker ({asker})" if asker else "the asker"
            problems.append(
                Problem(
                    node.source,
                    node.line_of("update"),
                    f"reply {node.id} is marked `update: yes`, but it is by {node.author}, "
                    f"and only {who} posts updates",
                    "Remove `update: yes` from it (or fix its author).",
                )
            )
            node.update = False
        if not node.accepted:
            continue
        if not node.is_answer:
            why = (
                "only question threads have accepted answers"
                if kind != "question"
                else "only a direct reply to the question by someone other than the asker "
                "is an answer"
            )
            problems.append(
                Problem(
                    node.source,
                    node.line_of("accepted"),
                    f"reply {node.id} is marked accepted, but {why}",
                    "Remove `accepted: yes` from it.",
                )
            )
            node.accepted = False
        elif accepted is not None:
            problems.append(
                Problem(
                    node.source,
                    node.line_of("accepted"),
                    f"reply {node.id} is marked accepted, but {accepted.id} already is",
                    "Keep `accepted: yes` on one answer only.",
                )
            )
            node.accepted = False
        else:
            accepted = node

    for node in nodes.values():
        # Field lines serve the checks above; a page needs none of them. One
        # shared empty dict (and tuple) each instead of one per reply.
        node.field_lines = _NO_LINES
        if not node.notes:
            node.notes = _NO_NOTES
    thread = Thread(
        kind=kind,
        asker=asker,
        opened=opened,
        roots=roots,
        replies=replies,
        accepted=accepted,
        pending=pending,
    )
    return thread, problems


@dataclass(slots=True)
class Event:
    """One step of a page's reply list: open a reply, or close it."""

    kind: str  # "open" | "close"
    reply: Reply
    expand: bool = False  # its children are shown on this page
    continues: bool = False  # its children continue on their own page


def page_events(roots: list[Reply], max_depth: int) -> list[Event]:
    """Flatten the replies shown on one page into open/close events."""
    events: list[Event] = []
    stack: list[tuple[Reply, int, Event | None]] = [(r, 1, None) for r in reversed(roots)]
    while stack:
        node, depth, opened = stack.pop()
        if opened is not None:
            events.append(Event("close", node, opened.expand, opened.continues))
            continue
        expand = bool(node.children) and depth < max_depth
        event = Event("open", node, expand, bool(node.children) and not expand)
        events.append(event)
        stack.append((node, depth, event))
        if expand:
            stack.extend((c, depth + 1, None) for c in reversed(node.children))
    return events


@dataclass
class ReplyPage:
    """A page of replies: the thread page itself, or a continuation page."""

    head: Reply | None  # the reply a continuation page starts at; None on numbered pages
    url: str
    save_as: str
    events: list[Event]
    number: int = 0  # 1, 2, ... for the pages of top-level replies; 0 for continuations
    total: int = 0
    previous_url: str = ""
    next_url: str = ""

    @property
    def modified(self):
        """Date of the newest reply shown on this page."""
        return max((e.reply.date for e in self.events if e.kind == "open"), default=None)


def lay_out(
    thread: Thread,
    url: str,
    save_as: str,
    folder: tuple[str, str],
    max_depth: int,
    page_size: int = 0,
) -> list[ReplyPage]:
    """Decide which page each reply is shown on, and set permalinks.

    Top-level replies come `page_size` to a page (0: all on one), with their
    subtrees: the first page is the thread page (`url`, `save_as`), the others
    `replies/page/<n>/` under `folder` (the item's (url, save_as) folder).
    A page shows replies to `max_depth`; a reply whose children go deeper
    links to a continuation page that starts at it, `replies/<id>/`.
    """
    folder_url, folder_save = folder
    roots = thread.roots
    size = page_size or len(roots) or 1
    chunks = [roots[i : i + size] for i in range(0, len(roots), size)] or [[]]
    pages = []
    for number, chunk in enumerate(chunks, 1):
        page_url, page_save = (
            (url, save_as)
            if number == 1
            else (
                f"{folder_url}replies/page/{number}/",
                f"{folder_save}replies/page/{number}/index.html",
            )
        )
        pages.append(
            ReplyPage(
                None,
                page_url,
                page_save,
                page_events(chunk, max_depth),
                number=number,
                total=len(chunks),
            )
        )
    for before, after in pairwise(pages):
        before.next_url, after.previous_url = after.url, before.url
    queue = 0
    while queue < len(pages):
        page = pages[queue]
        queue += 1
        for event in page.events:
            if event.kind != "open":
                continue
            reply = event.reply
            if reply is not page.head:
                reply.url = f"{page.url}#{reply.anchor}"
            if event.continues:
                reply.continuation_url = f"{folder_url}replies/{reply.id}/"
                pages.append(
                    ReplyPage(
                        head=reply,
                        url=reply.continuation_url,
                        save_as=f"{folder_save}replies/{reply.id}/index.html",
                        events=page_events([reply], max_depth),
                    )
                )
    return pages


# --- keeping a thread as one buffer ------------------------------------------------
#
# A site with 100,000 replies holds millions of small objects for them (replies,
# page events, dates, strings) from reading to the end of the build. Between
# those two points only counts and state are asked for (listings, indexes), and
# the replies themselves only when the item's own pages, feed and JSON-LD are
# written. So a thread is kept packed: one compressed buffer and its counts. A
# large buffer is also never copied by a forked writer process just by being
# looked at, as small objects are (their reference counts are written to).


def pack_replies(replies: list[Reply]) -> bytes:
    """Every reply of a thread, in reading order, as one compressed buffer.

    Each row names its parent by position (parents come first in reading
    order), so no chain of references is followed however deep the thread.
    The `text` kept for tagging is not packed; permalinks are set again by
    `lay_out` when the thread is unpacked.
    """
    position = {id(reply): n for n, reply in enumerate(replies)}
    rows = [
        (
            -1 if r.parent is None else position[id(r.parent)],
            # Reply's fields in order, from `id` to `line` and `accepted` to `origin_url`.
            (r.id, r.author, r.date, r.html, "", r.source, r.line),
            (r.accepted, r.removed, r.withdrawn, r.is_op, r.is_answer, r.origin, r.origin_url),
            r.notes,
            r.initials,
            r.hue,
            r.update,
        )
        for r in replies
    ]
    return zlib.compress(pickle.dumps(rows, protocol=pickle.HIGHEST_PROTOCOL), 1)


def unpack_replies(packed: bytes) -> tuple[list[Reply], list[Reply]]:
    """(replies in reading order, top-level replies) from `pack_replies`."""
    replies: list[Reply] = []
    roots: list[Reply] = []
    rows = pickle.loads(zlib.decompress(packed))
    for parent, head, flags, notes, initials, hue, update in rows:
        above = replies[parent] if parent >= 0 else None
        depth = above.depth + 1 if above is not None else 1
        reply = Reply(
            *head, above, [], depth, *flags, _NO_LINES, notes, "", "", initials, hue, update
        )
        if above is None:
            roots.append(reply)
        else:
            above.children.append(reply)
        replies.append(reply)
    return replies, roots


class PackedThread:
    """A `Thread` kept as one buffer, with the counts and state listings show.

    It answers what a Thread answers. Its replies and reply pages are unpacked
    when a page asks for them, and only the last thread unpacked is kept (the
    writer takes an item's pages one after the other). `text` holds the
    visible replies' plain text for topic tagging, until the build drops it.
    """

    _open: tuple[PackedThread, Thread, list[ReplyPage]] | None = None

    def __init__(self, thread: Thread, layout: tuple) -> None:
        self.kind, self.asker, self.opened = thread.kind, thread.asker, thread.opened
        self.pending = thread.pending
        self.reply_count = thread.reply_count
        self.answer_count = thread.answer_count
        self.answered = thread.answered
        self.solved = thread.solved
        self.last_activity = thread.last_activity
        self.shown_count = thread.shown_count
        self.text = "\n".join(reply.text for reply in thread.visible)
        self._layout = layout  # lay_out's arguments after the thread
        self._packed = pack_replies(thread.replies)
        self.pages = [PackedPage(self, n, page) for n, page in enumerate(lay_out(thread, *layout))]

    def unpack(self) -> tuple[Thread, list[ReplyPage]]:
        opened = PackedThread._open
        if opened is not None and opened[0] is self:
            return opened[1], opened[2]
        replies, roots = unpack_replies(self._packed)
        accepted = next((reply for reply in replies if reply.accepted), None)
        thread = Thread(self.kind, self.asker, self.opened, roots, replies, accepted, self.pending)
        pages = lay_out(thread, *self._layout)
        PackedThread._open = (self, thread, pages)
        return thread, pages

    def __getattr__(self, name: str):
        # Only for what is not kept: replies, roots, accepted, visible, answers,
        # op_followups come from the unpacked thread.
        if name in _FROM_REPLIES:
            return getattr(self.unpack()[0], name)
        raise AttributeError(name)


_FROM_REPLIES = frozenset(
    ("replies", "roots", "accepted", "visible", "answers", "op_followups", "latest_update")
)


class PackedPage:
    """A page of replies of a `PackedThread`: its address and date at hand
    (the sitemap lists every page), its replies unpacked when it is written."""

    def __init__(self, thread: PackedThread, index: int, page: ReplyPage) -> None:
        self.thread, self.index = thread, index
        self.url, self.save_as = page.url, page.save_as
        self.number, self.total = page.number, page.total
        self.previous_url, self.next_url = page.previous_url, page.next_url
        self.modified = page.modified

    @property
    def events(self) -> list[Event]:
        return self.thread.unpack()[1][self.index].events

    @property
    def head(self) -> Reply | None:
        return self.thread.unpack()[1][self.index].head
