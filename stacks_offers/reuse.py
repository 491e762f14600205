"""Work kept from the previous build, used again where its inputs are the same.

An incremental publish (tools/build.py) does what a clean build does, but
skips the work whose every input it has seen before:

* **per-item work** (reading a file or a comment file, building a thread's
  replies, tagging an item, ranking related items) is kept in a store, by a
  digest of everything that work reads (the file's bytes; the replies, asker
  and layout; the item's file and replies with the vocabulary; every item's
  terms and dates). A plugin asks
  `recall(settings, kind, key)` and, on a miss, computes and `keep`s. The
  messages the work logged (a warning about the file) are kept with it and
  logged again on every build that reuses it, so a kept problem is never
  silent. The store is one SQLite file beside the site's versions, valid for
  one set of non-content inputs (settings, theme, code, packages): any change
  of those starts an empty one.
* **pages**: while a page is rendered, every post, thread or page the template
  reads from is noted (`Reads`), with what it read of it. A page is reused
  (hard-linked from the previous version folder, not rendered) when the site's
  structure (which items exist, their addresses, dates, categories, tags,
  topics, authors, metadata and reply counts: `structure`) is unchanged and so
  is everything it read: of an item whose page it is, or that it read more of
  than a listing shows, the digest of its source file and replies
  (`item_digest`); of an item it only listed, the values it read (its title,
  address, date, status... `LISTED`), so editing a reply re-renders its
  thread's page but not every listing that names the thread.

Both are off unless the build asks for them (`REUSE_SETTING` in the settings,
which tools/build.py sets): a plain `pelican` run does all the work.
"""

from __future__ import annotations

import functools
import hashlib
import io
import logging
import os
import pickle
import re
import shutil
import sqlite3
import weakref
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import is_dataclass
from typing import Any

from pelican.contents import Content

from stacks_offers import compat
from stacks_offers.forkmap import _Capture, at_finish, replay
from stacks_offers.templatecache import TemplateCache, returns_what_it_wraps

logger = logging.getLogger(__name__)

# Set by tools/build.py: {"store": path, "pages": where this build's page records go,
# "previous": the last build's folder, "previous_pages": its records, "fresh": read nothing}
REUSE_SETTING = "_REUSE"
MISSING = object()
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def digest(*parts: Any) -> str:
    """A short digest of bytes, text, or values `stable` writes out (not pickle:
    its bytes depend on which equal strings happen to be one object)."""
    hashed = hashlib.blake2b(digest_size=16)
    for part in parts:
        if not isinstance(part, bytes | bytearray | memoryview):
            part = (part if isinstance(part, str) else stable(part)).encode(
                "utf-8", "surrogatepass"
            )
        hashed.update(len(part).to_bytes(8, "little"))
        hashed.update(part)
    return hashed.hexdigest()


def clear_empty_folder(path) -> None:
    """Where a file is to be written, a folder holding no file (one of a
    scaffold's: tools/tidy_versions.py) is removed; any other is left, for the
    write to fail as it would in a clean build."""
    if os.path.isdir(path) and not os.path.islink(path):
        for _root, _dirs, files in os.walk(path):
            if files:
                return
        shutil.rmtree(path)


def link_or_copy(source, target) -> None:
    """`target` made a hard link to `source` (the same file: no bytes copied),
    or a copy across file systems; an existing `target` is replaced (an empty
    folder too: `clear_empty_folder`). Raises FileNotFoundError when
    `target`'s folder does not exist yet."""
    try:
        os.link(source, target)
    except FileExistsError:
        if os.path.isdir(target):
            clear_empty_folder(target)
        else:
            os.remove(target)
        os.link(source, target)
    except FileNotFoundError:
        raise
    except OSError:
        shutil.copy2(source, target)


def file_digest(path: str, settings=None) -> str:
    """A digest of a file's bytes. The build's own pass over the content
    (tools/inputs.py, for the inputs record) already read them: what it found
    is in the plan (`"files"`), and used here rather than reading them again;
    a file outside it is read once in a build."""
    kept = store(settings)
    if kept is None:
        return _read_digest(path)
    where = os.path.abspath(path)
    known = kept.files.get(where) or kept.other_files.get(where)
    if known is None:
        # A file outside the pass (privacy.toml, asked about for every file
        # read, may not exist): read once in this build.
        known = kept.other_files[where] = _read_digest(path)
    return known


def _read_digest(path: str) -> str:
    try:
        with open(path, "rb") as handle:
            return hashlib.file_digest(handle, "blake2b").hexdigest()[:32]
    except OSError:
        return "absent"


def source_key(settings, path: str, data: bytes | None = None, also: tuple = ()) -> str | None:
    """The store's key of what was read from the file `path`: its name and the
    digest of its bytes, of `data` when given, else the digest the build's own
    pass over the content found (as `file_digest` gives it, but never reading
    the file), so that a file read before as it is now is found without
    reading it again; None when the build has no digest of it (not a content
    file, or no store). `also`: what else the reading depends on, as text."""
    if data is None:
        kept = store(settings)
        known = kept.files.get(os.path.abspath(path)) if kept is not None else None
        if known is None:
            return None
    else:
        known = hashlib.blake2b(data).hexdigest()[:32]  # as tools/inputs.py writes it
    return digest(path, known, *also)


# --- the store of per-item work ----------------------------------------------------


class _Pickler(pickle.Pickler):
    """The settings (which Pelican's categories and tags refer to) by reference."""

    def __init__(self, file, settings) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self._settings = settings

    def persistent_id(self, obj):
        return "settings" if obj is self._settings else None


class _Unpickler(pickle.Unpickler):
    def __init__(self, file, settings) -> None:
        super().__init__(file)
        self._settings = settings

    def persistent_load(self, pid):  # noqa: ARG002 - one persistent object
        return self._settings


class Store:
    """Results of per-item work by (kind, digest of its inputs), in SQLite.

    Content-addressed: a result is only ever found by the digest of what it was
    made from, so entries from any earlier build are as good as new. Each
    build marks what it used; `finish` drops what the last two builds did not
    use. Each process keeps what it makes, through its own connection: a
    forked worker starts with nothing to write (`_forked`) and writes what it
    kept before it reports (`forkmap.at_finish`), so the main process neither
    receives results to pickle again nor pickles them while the worker waits."""

    def __init__(self, path: str, settings, fresh: bool = False, files=None) -> None:
        self.path = path
        self.settings = settings
        self.fresh = fresh
        self.files: dict[str, str] = files or {}  # this build's content files' digests
        self.other_files: dict[str, str] = {}  # `file_digest` of others, this build
        self._connections: dict[int, sqlite3.Connection] = {}
        self.hits = self.misses = 0
        db = self._db()
        db.execute(
            "CREATE TABLE IF NOT EXISTS work (kind TEXT, key TEXT, value BLOB, "
            "PRIMARY KEY (kind, key))"
        )
        # Which build last used each result, apart from the results: SQLite
        # writes a row whole, and marking a result in its own row rewrote its
        # bytes (0.4 s for 21,000 results at 5,000 items; 0.1 s here).
        db.execute(
            "CREATE TABLE IF NOT EXISTS used (kind TEXT, key TEXT, build INTEGER, "
            "PRIMARY KEY (kind, key)) WITHOUT ROWID"
        )
        db.execute("CREATE TABLE IF NOT EXISTS builds (n INTEGER)")
        row = db.execute("SELECT MAX(n) FROM builds").fetchone()
        self.build = (row[0] or 0) + 1
        db.execute("INSERT INTO builds VALUES (?)", (self.build,))
        db.commit()
        self._used: list[tuple[str, str]] = []
        self._new: list[tuple[str, str, bytes]] = []
        self._new_bytes = 0  # the pickled size of `_new`
        self._main = os.getpid()

    def _db(self) -> sqlite3.Connection:
        pid = os.getpid()
        db = self._connections.get(pid)
        if db is None:  # a forked worker never uses its parent's connection
            db = sqlite3.connect(self.path, timeout=60, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=OFF")
            self._connections[pid] = db
        return db

    def get(self, kind: str, key: str) -> Any:
        if self.fresh:  # a build from nothing (--full): everything is worked out anew
            self.misses += 1
            return MISSING
        row = (
            self._db()
            .execute("SELECT value FROM work WHERE kind = ? AND key = ?", (kind, key))
            .fetchone()
        )
        if row is None:
            self.misses += 1
            return MISSING
        self.hits += 1
        if os.getpid() == self._main:
            self._used.append((kind, key))
        return _Unpickler(io.BytesIO(row[0]), self.settings).load()

    def _select(self, what: str, kind: str, keys: list[str]):
        """The rows (`what`) of `kind` for `keys`, 500 keys a query (SQLite
        takes at most 999 parameters), a chunk at a time."""
        db = self._db()
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            marks = ", ".join("?" * len(chunk))
            yield db.execute(
                f"SELECT {what} FROM work WHERE kind = ? AND key IN ({marks})", (kind, *chunk)
            ).fetchall()

    def present(self, kind: str, keys: Iterable[str]) -> set[str]:
        """Which of `keys` the store holds a result of `kind` for (none in a
        fresh build), without loading any."""
        if self.fresh:
            return set()
        return {key for rows in self._select("key", kind, list(keys)) for (key,) in rows}

    def get_many(self, kind: str, keys: Iterable[str]) -> dict[str, Any]:
        """`get` of each of `keys` (a query for many, not one each): what was
        found, by key."""
        keys = list(dict.fromkeys(keys))
        if self.fresh:
            self.misses += len(keys)
            return {}
        found: dict[str, Any] = {}
        for rows in self._select("key, value", kind, keys):
            for key, value in rows:  # loaded a chunk at a time: its bytes are dropped
                found[key] = _Unpickler(io.BytesIO(value), self.settings).load()
        self.hits += len(found)
        self.misses += len(keys) - len(found)
        if os.getpid() == self._main:
            self._used.extend((kind, key) for key in found)
        return found

    # Results are written a batch at a time: by the 500, or once they hold a
    # MiB (a worker and the main process each hold a batch while both work).
    BATCH_ROWS = 500
    BATCH_BYTES = 1 << 20

    def put(self, kind: str, key: str, value: Any) -> None:
        """Keep a result (written a batch at a time, and when the build or the worker ends)."""
        buffer = io.BytesIO()
        _Pickler(buffer, self.settings).dump(value)
        pickled = buffer.getvalue()
        self._new.append((kind, key, pickled))
        self._new_bytes += len(pickled)
        if len(self._new) >= self.BATCH_ROWS or self._new_bytes >= self.BATCH_BYTES:
            self.flush()

    def mark_used(self, kind: str, key: str) -> None:
        if os.getpid() == self._main:
            self._used.append((kind, key))

    def _forked(self) -> None:
        """In a new worker: what the parent had yet to write is the parent's."""
        self._new = []
        self._new_bytes = 0
        self._used = []

    def flush(self) -> None:
        if not self._new and not self._used:
            return
        db = self._db()
        with db:
            db.executemany(
                "INSERT OR REPLACE INTO work VALUES (?, ?, ?)",
                [(k, key, value) for k, key, value in self._new],
            )
            db.executemany(
                "INSERT OR REPLACE INTO used VALUES (?, ?, ?)",
                [(k, key, self.build) for k, key, _value in self._new]
                + [(k, key, self.build) for k, key in self._used],
            )
        self._new.clear()
        self._new_bytes = 0
        self._used.clear()

    def finish(self) -> None:
        """Save this build's results; forget what neither it nor the one before used."""
        if os.getpid() != self._main:
            return
        self.flush()
        db = self._db()
        with db:
            db.execute(
                "DELETE FROM work WHERE (kind, key) IN "
                "(SELECT kind, key FROM used WHERE build < ?)",
                (self.build - 1,),
            )
            db.execute("DELETE FROM used WHERE build < ?", (self.build - 1,))
            db.execute("DELETE FROM builds WHERE n < ?", (self.build - 1,))
        for connection in self._connections.values():
            connection.close()
        self._connections.clear()


_open: dict[int, Store] = {}  # by id(settings): one store per build


def _forked() -> None:
    for kept in _open.values():
        kept._forked()


def _flush_in_worker() -> None:
    for kept in _open.values():
        kept.flush()


os.register_at_fork(after_in_child=_forked)
at_finish(_flush_in_worker)


def store(settings) -> Store | None:
    """The build's store, opened on first use (in the main process, before any
    worker is forked: the plugins ask before they fork), or None when the
    build does not reuse work."""
    if not settings:
        return None
    plan = settings.get(REUSE_SETTING)
    if not plan or not plan.get("store"):
        return None
    kept = _open.get(id(settings))
    if kept is None or kept.settings is not settings:
        kept = _open[id(settings)] = Store(
            plan["store"], settings, bool(plan.get("fresh")), plan.get("files")
        )
    return kept


def template_cache(settings):
    """Jinja's compiled templates (`templatecache.TemplateCache`: found by their
    source and by what of the environment compiling reads): those this process
    compiled, then, when the build reuses work, those kept beside the store
    (written by Jinja's own `FileSystemBytecodeCache`), so a build does not
    compile every template again in each generator and process. A fresh build
    (--full) finds the kept ones emptied (tools/build.py)."""
    plan = settings.get(REUSE_SETTING) if settings else None
    if not plan or not plan.get("templates"):
        return TemplateCache()
    from jinja2 import FileSystemBytecodeCache

    os.makedirs(plan["templates"], exist_ok=True)
    return TemplateCache(FileSystemBytecodeCache(plan["templates"]))


def close(settings) -> None:
    kept = _open.pop(id(settings), None)
    if kept is not None:
        kept.finish()


@contextmanager
def recording():
    """Collect what is logged inside, for keeping with a result (it is still logged)."""
    capture = _Capture()
    root = logging.getLogger()
    root.addHandler(capture)
    try:
        yield capture.records
    finally:
        root.removeHandler(capture)


def recall(settings, kind: str, key: str) -> Any:
    """A kept result, its messages logged again; MISSING when there is none."""
    kept = store(settings)
    if kept is None:
        return MISSING
    found = kept.get(kind, key)
    if found is MISSING:
        return MISSING
    value, records = found
    replay(records)
    return value


def recall_many(settings, kind: str, keys: Iterable[str]) -> dict[str, Any]:
    """`recall` of each of `keys`, by key (those found), their messages logged
    again in the order of `keys` (once for each time a key is there, as
    `recall` of each would). Unlike `recall`, a key asked for twice (two
    items made from the same bytes) gives one value for both: the callers only
    read what they get."""
    kept = store(settings)
    if kept is None:
        return {}
    keys = list(keys)
    found = kept.get_many(kind, keys)
    values = {}
    for key in keys:
        if key in found:
            values[key], records = found[key]
            replay(records)
    return values


def keep(settings, kind: str, key: str, value: Any, records: Iterable = ()) -> None:
    kept = store(settings)
    if kept is not None:
        kept.put(kind, key, (value, list(records)))


def keeping(settings, kind: str, key_of, make):
    """`make`, each result kept under `key_of(item)` (None: not kept) by the
    process that made it: for `fork_map`, whose workers write their own rows."""

    def made(item):
        result = make(item)
        key = key_of(item)
        if key is not None:
            keep(settings, kind, key, result)
        return result

    return made


# --- pages ---------------------------------------------------------------------------


def stable(value) -> str:
    """Text for a value that is the same in every run with the same meaning:
    dicts and sets sorted, functions by their names, no memory addresses
    (tools/inputs.py writes the settings out with it too)."""
    if isinstance(value, dict):
        return "{" + ", ".join(sorted(f"{stable(k)}: {stable(v)}" for k, v in value.items())) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(stable(v) for v in value) + "]"
    if isinstance(value, set | frozenset):
        return "{" + ", ".join(sorted(stable(v) for v in value)) + "}"
    if isinstance(value, str | bytes | int | float | bool | None):
        return repr(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if callable(value) and hasattr(value, "__qualname__"):  # a function by its name
        return f"{getattr(value, '__module__', '?')}.{value.__qualname__}"
    return _ADDRESS.sub("", repr(value))  # no memory addresses


# Metadata whose value a page shows but which decides no page's place, order or
# membership: read from the item itself (tracked), not part of the structure.
BODY_METADATA = frozenset({"title", "summary"})
ITEM_LISTS = ("articles", "drafts", "hidden_articles", "pages", "hidden_pages", "draft_pages")


def all_items(context: dict) -> list:
    seen: dict[int, Any] = {}
    for name in ITEM_LISTS:
        for item in context.get(name) or ():
            for one in (item, *getattr(item, "translations", ())):
                seen.setdefault(id(one), one)
    return list(seen.values())


def _names(values) -> list[str]:
    return [str(getattr(v, "name", getattr(v, "slug", v))) for v in values or ()]


def item_structure(item) -> str:
    """What of an item decides where it is listed and how listings count it.
    (One `repr` of plain values: it runs for every item of every build.)"""
    thread = getattr(item, "thread", None)
    fields = (
        type(item).__name__,
        item.source_path,
        getattr(item, "status", None),
        # The address comes from the metadata, the slug and the settings (or a
        # plugin's override): Pelican's `url` works it out anew at each call.
        getattr(item, "slug", None),
        item.__dict__.get("override_url"),
        item.__dict__.get("override_save_as"),
        sorted((k, v) for k, v in item.metadata.items() if k not in BODY_METADATA),
        str(getattr(item, "category", "")),
        _names(getattr(item, "tags", ())),
        _names(getattr(item, "authors", ())),
        _names(getattr(item, "topics", ())),
        [getattr(r, "source_path", "") for r in getattr(item, "related", None) or ()],
        getattr(item, "kind", None),
        getattr(item, "template", None),
        getattr(item, "comments_open", None),
        getattr(item, "modified", None),
        [t.source_path for t in getattr(item, "translations", ())],
        None
        if thread is None
        else (thread.reply_count, thread.answered, thread.last_activity, thread.shown_count),
    )
    return _ADDRESS.sub("", repr(fields))


def structure(context: dict, settings, item_files: set[str]) -> str:
    """The site's structure: every item's place-deciding fields, and every file
    in the content folder that is not an item's own (vocabulary, categories,
    images...), by its bytes."""
    parts = sorted(item_structure(item) for item in all_items(context))
    root = settings["PATH"]
    files = []
    for folder, dirs, names in os.walk(root):
        dirs.sort()
        for name in sorted(names):
            path = os.path.join(folder, name)
            if path not in item_files:
                files.append(f"{os.path.relpath(path, root)} {file_digest(path, settings)}")
    return digest("\n".join(parts), "\n".join(files))


def item_digest(item) -> str:
    """What a page can read of an item: its source file and what the plugins
    noted it was made from (`note_inputs`: a thread's comment files)."""
    return digest(
        file_digest(item.source_path, item.settings),
        stable(item.__dict__.get("reuse_inputs", {})),
    )


def note_inputs(item, name: str, value: str) -> None:
    """A plugin notes an input of `item` besides its source file (its digest)."""
    item.__dict__.setdefault("reuse_inputs", {})[name] = value


# What a page may read of an item that it only lists, by the value read rather
# than by the item's file: place-deciding fields are in the structure as well,
# and each value here is the same on every page (`_listed_value`). Reading
# anything else of an item (or handing it to a filter of the site's own) makes
# the page depend on all of it. `thread.x` is the item's thread's x.
LISTED = frozenset(
    {
        "title",
        "url",
        "save_as",
        "date",
        "locale_date",
        "modified",
        "locale_modified",
        "slug",
        "lang",
        "status",
        "category",
        "tags",
        "author",
        "authors",
        "kind",
        "topics",
        "outcome",
        "comments_open",
        "replies_feed_url",
        "summary",
        "thread",
    }
)
LISTED_THREAD = frozenset(
    {
        "reply_count",
        "answer_count",
        "answered",
        "solved",
        "last_activity",
        "pending",
        "kind",
        "opened",
        "shown_count",
    }
)
WHOLE = None  # in a page's reads: the item as a whole (its `item_digest`)


class _NotPlain(Exception):
    pass


def _plain(value) -> str:
    """`value` as text that is the same in every build with the same meaning;
    _NotPlain for a value it cannot vouch for (an object without a faithful repr)."""
    if isinstance(value, Content):
        return f"<item {value.source_path}>"
    if isinstance(value, str | bytes | int | float | bool | None):
        return repr(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_plain(v) for v in value) + "]"
    if is_dataclass(value):
        return repr(value)
    if hasattr(value, "slug") and hasattr(value, "name") and hasattr(value, "settings"):
        return f"<{type(value).__name__} {value.name!r} {value.slug!r}>"  # a URLWrapper
    raise _NotPlain(type(value).__name__)


def _listed_value(item, attribute: str) -> str | None:
    """What a listing reads as `attribute` of `item`, as text; None when it
    cannot be vouched for (the page then depends on the whole item)."""
    # Outside the `try`: an error in the check is not an absent summary.
    if attribute == "summary" and not compat.summary_is_static(item):
        return None  # the page's own address may be in it
    try:
        if attribute.startswith("thread."):
            thread = getattr(item, "thread", None)
            value = None if thread is None else getattr(thread, attribute[7:])
        elif attribute == "thread":  # only whether there is one: the rest is read by name
            value = getattr(item, "thread", None) is not None
        elif attribute == "summary":
            value = item.summary
        else:
            value = getattr(item, attribute)
        return _plain(value)
    except AttributeError:
        return "<absent>"
    except _NotPlain:
        return None


class Pages:
    """The page records of one build: for each page, what it read of which
    items; and, kept with them for the next build, what decides each (item,
    what was read of it) pair (its *part*: a digest of the values read, or of
    the whole item). The next build reuses a page while every part it read is
    the same."""

    def __init__(self, structure_digest: str, items: dict[str, str], objects=None) -> None:
        self.structure = structure_digest
        self.items = items  # source path -> item_digest
        self.objects: dict[str, Any] = objects or {}  # source path -> the item
        self.records: dict[str, tuple[tuple, tuple]] = {}  # page -> (paths, attributes)
        self._parts: dict[tuple, str | None] = {}  # (path, attributes) -> `_part`
        self._changed: set[str] | None = None  # `prepare`: items with a changed pair
        self._prepared: dict | None = None  # the parts `prepare` compared with

    def _part(self, path: str, attributes, known=None) -> str | None:
        """What decides a page, of one item it read (an item is on a dozen pages:
        worked out once)."""
        found = self._parts.get((path, attributes), MISSING)
        if found is MISSING:
            found = self._parts[(path, attributes)] = self._work_out(path, attributes, known)
        return found

    def prepare(self, parts: dict) -> None:
        """Work out, once and before the build forks, the part of each pair the
        previous build's pages read (`parts`, that build's, names each pair
        once), and note the items with a pair whose part is not what it was:
        a page that read none of them is reusable without looking at its
        pairs one by one (`reusable`). Every process then finds this made,
        instead of each working out the items they share. An item's value
        read by several sets of attributes is worked out once.

        An item whose digest (`item_digest`, the part of the pair that read it
        whole) is what the previous build noted has every part it had then:
        what a page reads of an item comes from the item's files, the
        settings, and the site's structure, which is the same (else no page
        is reused, and no parts are given). Those parts are taken as they
        were, not worked out again: an edit works out only the edited items'."""
        known: dict[tuple[str, str], str | None] = {}
        changed = set()
        unchanged = {
            path
            for (path, attributes), then in parts.items()
            if attributes is WHOLE and then is not None and self.items.get(path) == then
        }
        for pair, then in parts.items():
            if pair[0] in unchanged and then is not None:
                self._parts[pair] = then
            elif then is None or self._part(*pair, known) != then:
                changed.add(pair[0])
        # No parts (another build's format): every page is looked at pair by pair.
        self._changed = changed if parts else None
        self._prepared = parts

    def _work_out(self, path: str, attributes, known=None) -> str | None:
        item = self.objects.get(path)
        if attributes is not WHOLE and item is not None:
            known = {} if known is None else known
            said = ["listed"]
            for attribute in attributes:
                value = known.get((path, attribute), MISSING)
                if value is MISSING:
                    value = known[(path, attribute)] = _listed_value(item, attribute)
                if value is None:  # not one it can vouch for: the item as a whole
                    return self.items.get(path)
                said.append(f"{attribute}={value}")
            # One digest of them all (19,000 pairs at 5,000 items): a value is
            # text as `_plain` writes it, which holds no NUL (reprs escape it).
            text = "\0".join(said).encode("utf-8", "surrogatepass")
            return hashlib.blake2b(text, digest_size=16).hexdigest()
        return self.items.get(path)

    def record(self, name: str, read) -> None:
        """`read`: the item paths the page read (each as a whole), or a
        `Reads` map of path to what was read of it."""
        self.records[name] = _normal(read)

    def parts(self) -> dict[tuple, str | None]:
        """The part of every (item, what was read of it) pair the pages read,
        worked out once when the build ends (in the main process, the items'
        values as the pages were rendered with them; None: an item no longer
        there, whose pages are never reused)."""
        known: dict[tuple[str, str], str | None] = {}
        parts: dict[tuple, str | None] = {}
        worked_out = self._parts  # most pairs were, by `prepare` or a page
        for paths, attributes in self.records.values():
            for pair in zip(paths, attributes, strict=True):
                if pair not in parts:  # an item is on a dozen pages: each pair once
                    found = worked_out.get(pair, MISSING)
                    parts[pair] = self._part(*pair, known) if found is MISSING else found
        return parts

    def reusable(self, name: str, previous: dict, parts: dict) -> bool:
        """Whether the previous build's page `name` is what rendering it would
        give: `previous` and `parts` are that build's records and parts."""
        read = previous.get(name)
        if read is None:
            return False
        # `parts` holds every pair of the records it was saved with (`parts`):
        # a page that read no item of a changed pair is what it was.
        if (
            self._changed is not None
            and parts is self._prepared
            and self._changed.isdisjoint(read[0])
        ):
            return True
        for pair in zip(*read, strict=True):
            then = parts.get(pair)
            if then is None or self._part(*pair) != then:
                return False
        return True


_SHARED: dict = {}  # one tuple for each set of attributes read (pages hold many of them)


def _normal(read) -> tuple[tuple, tuple]:
    """A page's reads, in one order and compactly (12,000 pages at 5,000
    items): (the item paths, and for each WHOLE or its sorted attributes)."""
    if not isinstance(read, dict):
        read = dict.fromkeys(read, WHOLE)
    paths = tuple(sorted(read))
    return paths, tuple(WHOLE if read[path] is WHOLE else _shared(read[path]) for path in paths)


def _shared(attributes) -> tuple:
    key = frozenset(attributes)
    found = _SHARED.get(key)
    if found is None:
        found = _SHARED[key] = tuple(sorted(key))
    return found


def load_pages(path: str | None) -> dict:
    if not path:
        return {}
    try:
        with open(path, "rb") as handle:
            return pickle.load(handle)
    except (OSError, pickle.UnpicklingError, EOFError, ValueError):
        return {}


def save_pages(path: str, pages: Pages, reused: int = 0) -> None:
    kept = {
        "structure": pages.structure,
        "records": pages.records,
        "parts": pages.parts(),
        "reused": reused,
    }
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "wb") as handle:
        pickle.dump(kept, handle)
    os.replace(tmp, path)


class Reads(dict):
    """What a template read while one page was rendered: for each post, thread
    or page (by its source path), the attributes it read (a set) or WHOLE.

    Jinja reads every `a.b` and `a[b]` through its environment's `getattr` and
    `getitem`, and calls filters, tests and globals with the values: those are
    wrapped (`watch`). An attribute in LISTED is noted by name (and a thread's
    LISTED_THREAD attributes, for the item the thread is of); any other
    attribute, and an item handed to a filter, test or function that is not
    Jinja's own, make the page read the whole item."""

    current: Reads | None = None

    def __init__(self) -> None:
        super().__init__()
        self.threads: dict[int, Any] = {}  # id of a thread read from an item -> the item

    @classmethod
    @contextmanager
    def of_one_page(cls):
        outer, cls.current = cls.current, cls()
        try:
            yield cls.current
        finally:
            cls.current = outer

    def whole(self, item) -> None:
        self[item.source_path] = WHOLE

    def attribute(self, item, attribute: str, value) -> None:
        """`item.attribute` was read (and gave `value`)."""
        self._add(item, attribute, attribute in LISTED)
        if attribute == "thread" and value is not None:
            self.threads[id(value)] = item

    def of_thread(self, item, attribute: str) -> None:
        """`item.thread.attribute` was read."""
        self._add(item, f"thread.{attribute}", attribute in LISTED_THREAD)

    def _add(self, item, name: str, listed: bool) -> None:
        path = item.source_path
        read = self.get(path, MISSING)
        if read is WHOLE:
            return
        if not listed:
            self[path] = WHOLE
        elif read is MISSING:
            self[path] = {name}
        else:
            read.add(name)

    def merge(self, read: tuple) -> None:
        """Add what another scope read (in `_normal`'s form). (The threads it
        read need not be known here: this page reads them through its items.)"""
        for path, attributes in zip(*read, strict=True):
            mine = self.get(path, MISSING)
            if attributes is WHOLE or mine is WHOLE:
                self[path] = WHOLE
            elif mine is MISSING:
                self[path] = set(attributes)
            else:
                mine.update(attributes)

    def handed(self, value) -> None:
        """`value` was handed to code that reads it as it likes."""
        if isinstance(value, Content):
            self.whole(value)
        elif isinstance(value, list | tuple):
            for one in value[:1000]:
                if isinstance(one, Content):
                    self.whole(one)
        else:
            owner = self.threads.get(id(value))
            if owner is not None:
                self.whole(owner)


def _note(value) -> None:
    """The page being rendered reads all of `value` if it is a post, thread or
    page (or a list or tuple holding some)."""
    if Reads.current is not None:
        Reads.current.handed(value)


def remembered(item, name: str, make):
    """`make()`, made once for `item` and kept on it (output that is the same
    on every page that shows the item: a status line made by a macro), with
    what making it read of the item noted on every page that uses it."""
    kept = item.__dict__.setdefault("_rendered_once", {})
    if name not in kept:
        with Reads.of_one_page() as reads:
            output = make()
        kept[name] = (output, _normal(reads))
    output, read = kept[name]
    if Reads.current is not None:
        Reads.current.merge(read)
    return output


_WATCHED: weakref.WeakSet = weakref.WeakSet()


def watch(environment) -> None:
    """Note what a template reads, in this Jinja environment (once)."""
    if environment in _WATCHED:
        return
    # Kept aside, not on the environment: what it holds is part of the key its
    # compiled templates are kept under (templatecache.fingerprint).
    _WATCHED.add(environment)
    plain_getattr, plain_getitem = environment.getattr, environment.getitem

    def getattr_(obj, attribute):
        value = plain_getattr(obj, attribute)
        reads = Reads.current
        if reads is not None:
            if isinstance(obj, Content):
                reads.attribute(obj, attribute, value)
            elif id(obj) in reads.threads:
                reads.of_thread(reads.threads[id(obj)], attribute)
        return value

    def getitem(obj, argument):
        value = plain_getitem(obj, argument)
        reads = Reads.current
        if reads is not None:
            if isinstance(obj, Content) and isinstance(argument, str):
                reads.attribute(obj, argument, value)  # Jinja's attribute= filters
            elif isinstance(obj, Content):
                reads.whole(obj)
            elif id(obj) in reads.threads:
                reads.of_thread(reads.threads[id(obj)], str(argument))
        return value

    # They return what Jinja's own return: templates compile as without them.
    environment.getattr = returns_what_it_wraps(getattr_, plain_getattr)
    environment.getitem = returns_what_it_wraps(getitem, plain_getitem)
    for table in (environment.filters, environment.tests):
        for name, function in list(table.items()):
            table[name] = _watched(function, name)
    for name, value in list(environment.globals.items()):
        if callable(value) and not isinstance(value, type):
            environment.globals[name] = _watched(value, name)


# Jinja's own filters that turn what they are given into text as a whole.
_WHOLE_TEXT = frozenset({"tojson", "pprint", "string", "format", "join", "xmlattr", "safe"})


def _watched(function, name: str = ""):
    """The filter, test or function, noting the items it is given. Jinja's own
    read items through the environment's getattr and getitem (noted there),
    but for the few that write a value out whole; any other may read anything
    of them. (`wraps` copies the function's attributes, so Jinja still passes
    it the context where `pass_context` asked for it.)"""
    jinjas = getattr(function, "__module__", "").startswith("jinja2.")
    if (jinjas and name not in _WHOLE_TEXT) or getattr(function, "reads_through_jinja", False):
        return function

    @functools.wraps(function)
    def call(*args, **kwargs):
        if Reads.current is not None:
            for value in (*args, *kwargs.values()):
                _note(value)
        return function(*args, **kwargs)

    return returns_what_it_wraps(call, function)
