"""Wire the thread model into Pelican.

* `readers_init`: Markdown files under THREADS_PATH are read as threads
  (opening post and replies, all untrusted, all sanitised); other Markdown
  files keep Pelican's own trusted pipeline.
* `article_generator_pretaxonomy`: comment files are merged in and every post
  and thread gets its reply tree, counts, pages and JSON-LD, before Pelican
  builds categories and tags so listings can show them.
* a generator writes continuation pages and the Atom feeds of replies.
"""

from __future__ import annotations

import contextlib
import difflib
import logging
import os
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

from feedgenerator import Atom1Feed, get_tag_uri
from markdown import Markdown
from pelican import signals
from pelican.generators import Generator
from pelican.readers import MarkdownReader
from pelican.urlwrappers import URLWrapper
from pelican.utils import SafeDatetime, get_date, sanitised_join

from stacks_offers import compat, contract, reuse, templates
from stacks_offers.forkmap import default_jobs, fork_map, replay

from . import jsonld, privacy
from .model import KINDS, PackedThread, build_thread
from .parse import (
    FALSE_WORDS,
    TRUE_WORDS,
    Problem,
    RawReply,
    pack_raw,
    parse_comment,
    parse_thread,
    read_source,
    unpack_raw,
)
from .render import (
    avatar_hue,
    excerpt,
    initials,
    plain_text,
    render_untrusted,
    safe_link,
    sanitise_imported,
)

logger = logging.getLogger(__name__)

# Default pages for items with replies (thread.html, page_thread.html,
# continuation.html) and their parts (threads/*.html), for a theme without them.
TEMPLATES = Path(__file__).parent / "templates"

DEFAULTS = {
    "THREADS_PATH": "threads",  # folder under PATH holding one thread per file
    "THREADS_COMMENTS_PATH": "comments",  # folder under PATH: <slug>/<comment>.md
    "THREADS_MAX_DEPTH": 6,  # deeper replies continue on their own page
    "THREADS_PAGE_SIZE": 100,  # top-level replies per page (0: all on the thread page)
    "THREADS_FEED_ATOM": "feeds/replies.atom.xml",  # every reply, site-wide
    "THREADS_FEED_MAX_ITEMS": 50,
    "THREADS_AVATAR_SALT": "",  # defaults to SITENAME
    "THREADS_DATE_FORMAT": "%-d %B %Y, %H:%M",  # replies in one day need their time
    # Readers reply by e-mail: a mailto: link whose subject carries a token
    # naming the thread and reply (`make import SOURCE=email` reads it back).
    # Empty: no reply links.
    "THREADS_REPLY_EMAIL": "",
    # "Request removal" links on every thread and reply: a mailto: whose subject
    # carries `[remove: slug#reply-id]`, what `make takedown ITEM=...` takes.
    # Empty: THREADS_REPLY_EMAIL's address; both empty: no removal links.
    "THREADS_REMOVAL_EMAIL": "",
    # The owner's list of names (employers, people) the personal-data check
    # looks for in readers' text, under PATH.
    "THREADS_PRIVACY_NAMES": "privacy.toml",
    # Pages take replies only where the owner turns them on (`Comments: on` in
    # a page's metadata); True: every page does, unless `Comments: off`.
    "THREADS_PAGE_COMMENTS": False,
}


def set_defaults(pelican) -> None:
    settings = pelican.settings
    contract.check_order(settings)
    for key, value in DEFAULTS.items():
        settings.setdefault(key, value)
    depth = settings["THREADS_MAX_DEPTH"]
    if not isinstance(depth, int) or depth < 2:
        raise ValueError(f"THREADS_MAX_DEPTH is {depth!r}: set it to a whole number of at least 2")
    if not settings["THREADS_REMOVAL_EMAIL"]:
        settings["THREADS_REMOVAL_EMAIL"] = settings["THREADS_REPLY_EMAIL"]
    if not settings["THREADS_AVATAR_SALT"]:
        settings["THREADS_AVATAR_SALT"] = settings.get("SITENAME", "")
    # Comment files are replies, never posts or pages of their own, wherever
    # ARTICLE_PATHS and PAGE_PATHS look (Pelican's default reads all of PATH).
    # New lists: the ones in the settings may be Pelican's shared defaults.
    for key in ("ARTICLE_EXCLUDES", "PAGE_EXCLUDES"):
        excluded = list(settings.get(key) or [])
        if settings["THREADS_COMMENTS_PATH"] not in excluded:
            settings[key] = [*excluded, settings["THREADS_COMMENTS_PATH"]]


def report(problems: list[Problem]) -> None:
    for problem in problems:
        log = logger.warning if problem.severity == "warning" else logger.error
        log("%s", problem)


def privacy_names(settings) -> privacy.Names:
    """The owner's list of names (`content/privacy.toml`), read again only when
    the file changes (the dev server keeps its settings between builds); a
    mistake in it is reported by name, and the check goes on without names."""
    path = Path(settings["PATH"]) / settings["THREADS_PRIVACY_NAMES"]
    try:
        info = path.stat()
        stamp = (str(path), info.st_mtime_ns, info.st_size)
    except OSError:
        stamp = (str(path), None, None)
    kept = settings.get("_THREADS_PRIVACY_NAMES")
    if kept is None or kept[0] != stamp:
        try:
            names = privacy.load_names(path)
        except privacy.NamesError as exc:
            logger.error("%s", exc)
            names = privacy.Names()
        kept = settings["_THREADS_PRIVACY_NAMES"] = (stamp, names)
    return kept[1]


def _source_key(settings, path: str, data: bytes | None = None) -> str | None:
    """The store's key of what reading `path` gives (`reuse.source_key`), with
    the owner's list of names (the bytes of privacy.toml, as the build's pass
    over the content found them), which the personal-data check of the reading
    looks for: a name added there is looked for again in every file."""
    names = os.path.join(settings["PATH"], settings["THREADS_PRIVACY_NAMES"])
    return reuse.source_key(settings, path, data, (reuse.file_digest(names, settings),))


def report_personal_data(flagged: list[privacy.Flagged]) -> None:
    """Published text that carries personal data: a warning (`make html` builds
    and says so; `make publish`, which stops on any warning, stops)."""
    report(
        [
            Problem(f.source, f.line, f.message(), f.fix, severity="warning")
            for f in flagged
            if f.published
        ]
    )


def metadata_line(source_path: str, key: str) -> int | None:
    """The line of `Key:` in a content file's metadata (for a message), if any."""
    try:
        text, _ = read_source(source_path)
    except OSError:
        return None
    for number, line in enumerate((text or "").split("\n"), 1):
        if not line.strip():
            return None
        if line.lower().startswith(f"{key}:"):
            return number
    return None


def comments_open(item, default: bool) -> tuple[bool, Problem | None]:
    """Whether readers may reply to an item: `Comments: on` / `off` in its
    metadata, else `default`. A value that is neither is a mistake (reported)
    and leaves the default."""
    value = item.metadata.get("comments")
    if value is None:
        return default, None
    word = str(value).strip().lower()
    if word in TRUE_WORDS:
        return True, None
    if word in FALSE_WORDS and word:
        return False, None
    source = item.source_path
    return default, Problem(
        source,
        metadata_line(source, "comments"),
        f"`Comments: {value}` is neither on nor off",
        "Write `Comments: off` to close the item to replies, `Comments: on` to open it.",
    )


def _in_folder(path: str, content_root: str, folder: str) -> bool:
    relative = os.path.relpath(path, content_root)
    return relative.split(os.sep, 1)[0] == folder


class ThreadAwareMarkdownReader(MarkdownReader):
    """Reads thread files with the untrusted pipeline, the rest as usual.

    Posts and pages go through Pelican's own Markdown reading, with one
    difference: Pelican makes a new `Markdown` instance for every file, which
    loads every extension again (a fifth of the reading time of a short post).
    Here one instance is kept and `reset()` between files, as Python-Markdown
    means it to be reused; Pelican's reader takes the `meta` step out of the
    instance after the metadata is read, so it is put back before each file.
    """

    # Reading ahead (plugins/parallel): a worker process reads a file with
    # `read_ahead`, the main process hands the result to `keep`, and `read`
    # then returns it, unless the file changed in between. The process that
    # read a file keeps its reading in the store (stacks_offers/reuse.py).

    def read_ahead(self, source_path):
        result, key, records = self._read_reusing(source_path)
        _content, metadata = result
        for value in metadata.values():
            for wrapper in value if isinstance(value, list) else (value,):
                if isinstance(wrapper, URLWrapper):
                    wrapper.slug  # noqa: B018 - slugified here, not in the main process
        if key is not None and records is not None:
            # Kept with its slugs worked out, as an incremental build takes it.
            reuse.keep(self.settings, "read", key, result, records)
            key = records = None  # kept: nothing left for `read` to do
        return _stamp(source_path), (result, key, records)

    def keep(self, source_path, ahead) -> None:
        self.__dict__.setdefault("_ahead", {})[source_path] = ahead

    def forget_ahead(self) -> None:
        self.__dict__.pop("_ahead", None)
        self.__dict__.pop("_stored", None)

    def stored(self, paths: list[str]) -> set[str]:
        """Which of `paths` an incremental build's store holds the reading of,
        as the build found the files: their readings are taken from the store
        now, a few queries for them all (one each took 0.7 s at 5,000 files,
        0.3 s this way), and `read` hands each over with its messages; reading
        them ahead would only carry them through a worker."""
        kept = reuse.store(self.settings)
        if kept is None:
            return set()
        keys = {_source_key(self.settings, path): path for path in paths}
        keys.pop(None, None)
        try:
            found = kept.get_many("read", keys)
        except Exception:  # a damaged store, whatever the error
            # Each file is then looked up as Pelican reads it, and one whose
            # reading cannot be read back is reported by Pelican ("Could not
            # process"), the others built: one bad row does not stop the build.
            return {keys[key] for key in kept.present("read", keys)}
        held = self.__dict__.setdefault("_stored", {})
        for key, reading in found.items():
            held[keys[key]] = reading
        return {keys[key] for key in found}

    def read(self, source_path):
        ahead = self.__dict__.get("_ahead")
        if ahead and source_path in ahead:
            stamp, (result, key, records) = ahead.pop(source_path)
            if stamp == _stamp(source_path):
                if key is not None:  # found in the store by the worker
                    reuse.store(self.settings).mark_used("read", key)
                return result
        result, key, records = self._read_reusing(source_path)
        if key is not None and records is not None:
            reuse.keep(self.settings, "read", key, result, records)
        return result

    def _read_reusing(self, source_path):
        """(what `_read` gives, the store's key, what it logged), the result taken
        from the store when the same file was read before: an incremental
        build (stacks_offers/reuse.py). Its messages are logged again then."""
        if reuse.store(self.settings) is None:
            return self._read(source_path), None, None
        # First by the digest the build found (the file is not read again).
        known = _source_key(self.settings, source_path)
        if known is not None:
            # Taken by `stored`, by this same key (the digest the build found).
            taken = self.__dict__.get("_stored", {}).pop(source_path, None)
            if taken is not None:
                result, records = taken
                replay(records)
                return result, known, None
            found = reuse.recall(self.settings, "read", known)
            if found is not reuse.MISSING:
                return found, known, None
        try:
            with open(source_path, "rb") as handle:
                key = _source_key(self.settings, source_path, handle.read())
        except OSError:
            return self._read(source_path), None, None
        if key != known:
            found = reuse.recall(self.settings, "read", key)
            if found is not reuse.MISSING:
                return found, key, None
        with reuse.recording() as records:
            result = self._read(source_path)
        return result, key, records

    def _read(self, source_path):
        text, problems = read_source(source_path)
        report(problems)
        if text is None:
            # Not text at all (reported): Pelican skips a file without a title.
            return "", {}
        if not _in_folder(source_path, self.settings["PATH"], self.settings["THREADS_PATH"]):
            names = privacy_names(self.settings)
            report_personal_data(privacy.check_imported(text, source_path, names))
            return self._read_markdown(source_path, text)
        parsed = parse_thread(text, source_path)
        report(parsed.problems)
        names = privacy_names(self.settings)
        report_personal_data(privacy.check_thread(text, source_path, names, parsed))

        metadata = {}
        for key, value, _line in parsed.metadata:
            if key == "summary":
                metadata[key] = render_untrusted(value)
            else:
                metadata[key] = self.process_metadata(key, value)
        kind = str(metadata.get("kind", "")).strip().lower()
        if kind not in ("question", "discussion"):
            line = next((at for key, _v, at in parsed.metadata if key == "kind"), 1)
            report(
                [
                    Problem(
                        source_path,
                        line,
                        f"`Kind: {kind}` is not a thread kind" if kind else "no `Kind:`",
                        "Add `Kind: question` or `Kind: discussion` to the metadata.",
                    )
                ]
            )
            kind = "question"
        metadata["kind"] = kind
        moderation = str(metadata.pop("moderation", "published")).strip().lower()
        if moderation not in ("published", "pending"):
            line = next((at for key, _v, at in parsed.metadata if key == "moderation"), None)
            report(
                [
                    Problem(
                        source_path,
                        line,
                        f"`Moderation: {moderation}` is not a thread's moderation",
                        "Write `Moderation: published` to publish the thread, or `pending` "
                        "to hold it back; it is held back until then.",
                    )
                ]
            )
            moderation = "pending"
        if moderation == "pending":
            # A reader's question the owner has not approved yet: a draft, which
            # `make publish` never writes (`make html` previews it under drafts/).
            metadata["status"] = "draft"
        metadata["thread_replies"] = pack_raw(parsed.replies)
        return render_untrusted(parsed.body), metadata

    def _read_markdown(self, source_path, text):
        if getattr(self, "_reusable", None) is None:
            md = Markdown(**self.settings["MARKDOWN"])
            self._reusable = (md, md.preprocessors["meta"])
        md, meta = self._reusable
        md.reset()
        if "meta" not in md.preprocessors:
            md.preprocessors.register(meta, "meta", compat.META_PRIORITY)
        content = md.convert(text)
        metadata = compat.markdown_metadata(self, md, source_path)
        if "import-key" in metadata:
            # Imported from another platform: its text is not the owner's own
            # writing, whatever the Markdown made of it.
            content = sanitise_imported(content)
            if "summary" in metadata:
                metadata["summary"] = sanitise_imported(str(metadata["summary"]))
        return content, metadata


def _stamp(path: str) -> tuple[int, int]:
    info = os.stat(path)
    return info.st_mtime_ns, info.st_size


def install_reader(readers) -> None:
    for extension in MarkdownReader.file_extensions:
        readers.reader_classes[extension] = ThreadAwareMarkdownReader


def stable_date(value) -> str:
    return value.isoformat() if value is not None else ""


def _date_parser(timezone: str):
    zone = ZoneInfo(timezone)

    def parse(text: str):
        try:
            # The usual "2026-03-04 18:20" (and full ISO 8601): fast, no guessing.
            value = SafeDatetime.fromisoformat(text.strip())
        except ValueError:
            value = get_date(text)  # anything else Pelican reads in `Date:`
        return value if value.tzinfo else value.replace(tzinfo=zone)

    return parse


def _render(markdown_text: str) -> tuple[str, str]:
    clean = render_untrusted(markdown_text)
    return clean, plain_text(clean)


def _read_comment(path: Path, settings) -> tuple[RawReply, list[Problem]] | None:
    text, problems = read_source(path)
    if text is None:
        report(problems)  # not text: reported, not read
        return None
    reply, more = parse_comment(text, str(path), default_id=path.stem)
    names = privacy_names(settings)
    report_personal_data(privacy.check_comment(text, str(path), path.stem, names, reply))
    return reply, problems + more


def _read_comment_ahead(path: Path, settings) -> tuple | None:
    """In a worker (`read_comment_folders`): `_read_comment`, kept in the
    store by this process with what it logged."""
    key = None
    if reuse.store(settings) is not None:
        with contextlib.suppress(OSError):  # `_read_comment` meets it too
            key = _source_key(settings, str(path), path.read_bytes())
    with reuse.recording() as records:
        entry = _read_comment(path, settings)
    if key is not None:
        reuse.keep(settings, "comment", key, entry, records)  # by the process that read it
    return entry


def read_comment_folders(settings) -> dict[str, list[tuple[RawReply, list[Problem]]]]:
    root = Path(settings["PATH"]) / settings["THREADS_COMMENTS_PATH"]
    found: dict[str, list[tuple[RawReply, list[Problem]]]] = {}
    if not root.is_dir():
        return found
    folders = [(f, sorted(f.glob("*.md"))) for f in sorted(p for p in root.iterdir() if p.is_dir())]
    # An incremental build's store, asked once for every file read before as it is.
    keys = {path: _source_key(settings, str(path)) for _f, paths in folders for path in paths}
    kept = reuse.recall_many(settings, "comment", (k for k in keys.values() if k is not None))
    read = {path: kept[key] for path, key in keys.items() if key in kept}
    # The others are read in worker processes (a build from nothing reads thousands).
    todo = [path for path in keys if path not in read]
    made = fork_map(
        lambda path: _read_comment_ahead(path, settings),
        todo,
        jobs=default_jobs(settings),
        what="reading comment files",
    )
    for path, entry in zip(todo, made, strict=True):
        read[path] = entry
    for folder, paths in folders:
        entries = found.setdefault(folder.name, [])
        for path in paths:
            entry = read[path]
            if entry is not None:
                entries.append(entry)
        for stray in sorted(p for p in folder.iterdir() if p.suffix != ".md"):
            report(
                [
                    Problem(
                        str(stray),
                        None,
                        "not read: comment files end in .md",
                        "Rename it to <name>.md or move it out of the comments folder.",
                    )
                ]
            )
    return found


def _base_urls(article) -> tuple[str, str]:
    """Where an item's continuation pages and feed live: its folder."""
    url, save_as = article.url, article.save_as
    if save_as.endswith("index.html"):
        return url, save_as[: -len("index.html")]
    return url.rsplit(".", 1)[0] + "/", save_as.rsplit(".", 1)[0] + "/"


def _comment_files(generator) -> dict:
    """Comment files, read once per build and shared by the article and page steps."""
    context = generator.context
    if "thread_comment_files" not in context:
        context["thread_comment_files"] = read_comment_folders(generator.settings)
    return context["thread_comment_files"]


# Every list of posts and threads the articles generator keeps.
ARTICLE_LISTS = (
    "articles",
    "translations",
    "drafts",
    "drafts_translations",
    "hidden_articles",
    "hidden_translations",
)


def _all_articles(generator) -> list:
    return [item for name in ARTICLE_LISTS for item in getattr(generator, name, [])]


def attach_threads(generator) -> None:
    """Posts and threads (article_generator_pretaxonomy)."""
    _attach(generator.settings, _comment_files(generator), _all_articles(generator), pages=False)


def attach_page_threads(generator) -> None:
    """Comments on pages (page_generator_finalized)."""
    items = [
        *generator.pages,
        *generator.translations,
        *generator.hidden_pages,
        *generator.hidden_translations,
        *generator.draft_pages,
        *generator.draft_translations,
    ]
    _attach(generator.settings, _comment_files(generator), items, pages=True)


def report_unmatched_folders(
    settings, comments: dict, slugs: set[str], by_file: dict[str, str] | None = None
) -> None:
    """`by_file`: file name (without .md) -> slug, for a folder named after the file."""
    for folder, entries in comments.items():
        if folder in slugs:
            continue
        hint = difflib.get_close_matches(folder, sorted(slugs), n=1)
        where = os.path.join(settings["PATH"], settings["THREADS_COMMENTS_PATH"], folder)
        if by_file and folder in by_file:
            fix = (
                f"The folder is named after the file {folder}.md, but comment folders take "
                f"the item's slug: rename it to {by_file[folder]!r}"
            )
        elif hint:
            fix = f"Rename the folder to {hint[0]!r}, the nearest slug"
        else:
            fix = "Rename it to the slug of an existing post, thread or page"
        report(
            [
                Problem(
                    where,
                    None,
                    f"{len(entries)} comment file(s) in a folder that "
                    "matches no post, thread or page",
                    f"{fix}.",
                )
            ]
        )


def _attach(settings, comments: dict, items: list, pages: bool) -> None:
    parse_date = _date_parser(settings["TIMEZONE"])
    site_url = settings.get("SITEURL", "")
    license_url = settings.get("LICENSE_URL", "")
    max_depth = settings["THREADS_MAX_DEPTH"]
    page_size = settings["THREADS_PAGE_SIZE"]
    salt = settings["THREADS_AVATAR_SALT"]
    raws_by_item = []
    for article in items:
        # A thread's replies as written, packed by the reader (see `pack_raw`);
        # Pelican also copies every metadata key onto the article.
        packed = article.metadata.pop("thread_replies", b"")
        article.__dict__.pop("thread_replies", None)
        comment_files = []
        for reply, problems in comments.get(article.slug, []):
            report(problems)
            comment_files.append(reply)
        raws_by_item.append((packed, comment_files))
    threaded = []  # positions of the items that have replies (or are threads)
    for n, (article, (packed, comment_files)) in enumerate(zip(items, raws_by_item, strict=True)):
        if article.metadata.get("withdrawn"):
            # Withdrawn at its author's request (`make takedown`): no byline,
            # not even the site's default author, and no author page lists it.
            article.__dict__.pop("author", None)
            article.authors = []
        # An imported item's old address, linked only when it is plain http(s).
        article.original_link = safe_link(article.metadata.get("original-url"))
        kind = article.metadata.get("kind", "post")
        article.kind = kind if kind in KINDS else "post"
        article.thread = None
        # Readers may reply (a "Leave a reply" link, "Reply" on each reply):
        # posts and threads unless `Comments: off`, pages where turned on.
        is_open, problem = comments_open(
            article, settings["THREADS_PAGE_COMMENTS"] if pages else True
        )
        article.comments_open = is_open and not article.metadata.get("withdrawn")
        if problem:
            report([problem])
        if article.kind == "post" and not packed and not comment_files:
            if not pages:
                article.jsonld = jsonld.for_post(article, None, site_url, license_url)
            continue
        threaded.append(n)
    # Where each item's continuation pages and feed go: for its layout and its feed.
    folders = {n: _base_urls(items[n]) for n in threaded}

    def build(n: int) -> tuple[PackedThread, list[Problem]]:
        """One item's replies rendered, placed, laid out on pages and packed."""
        article, (packed, comment_files) = items[n], raws_by_item[n]
        raws = unpack_raw(packed) + comment_files
        asker = article.author.name if getattr(article, "author", None) else ""
        opened = getattr(article, "date", None) or min(
            (parse_date(r.date) for r in raws if r.date), default=None
        )
        thread, problems = build_thread(
            article.kind, asker, opened, raws, parse_date, _render, safe_link
        )
        for reply in thread.replies:
            reply.initials = initials(reply.author)
            reply.hue = avatar_hue(reply.author, salt)
        layout = (article.url, article.save_as, folders[n], max_depth, page_size)
        return PackedThread(thread, layout), problems

    def inputs(n: int) -> str:
        """Everything `build(n)` reads, as one digest (an incremental build
        reuses a thread built from the same)."""
        article, (packed, comment_files) = items[n], raws_by_item[n]
        asker = article.author.name if getattr(article, "author", None) else ""
        return reuse.digest(
            article.kind,
            asker,
            stable_date(getattr(article, "date", None)),
            packed,
            repr(comment_files),  # dataclasses of plain values: their repr is exact
            (article.url, article.save_as, folders[n], max_depth, page_size, salt),
        )

    keys = {}
    if reuse.store(settings) is not None:
        for n in threaded:
            keys[n] = inputs(n)
            # The page of an item is made from its file and its comment files.
            reuse.note_inputs(items[n], "replies", keys[n])
    found = reuse.recall_many(settings, "thread", keys.values())
    kept = {n: found.get(key, reuse.MISSING) for n, key in keys.items()}
    missing = [n for n in threaded if kept.get(n, reuse.MISSING) is reuse.MISSING]
    made = fork_map(
        reuse.keeping(settings, "thread", keys.get, build),
        missing,
        jobs=default_jobs(settings),
        what="building threads",
    )
    for n, result in zip(missing, made, strict=True):
        kept[n] = result
    built = [kept[n] for n in threaded]
    for n, (thread, problems) in zip(threaded, built, strict=True):
        report(problems)
        article = items[n]
        url, save_as = folders[n]
        article.thread = thread
        article.reply_pages = thread.pages
        if "template" not in article.metadata:
            # A theme that shows replies has these (it may extend its own
            # article.html); any other gets the plugin's (`add_templates`).
            article.template = "page_thread" if pages else "thread"
        article.replies_feed_url = f"{url}replies.atom.xml"
        article.replies_feed_save_as = f"{save_as}replies.atom.xml"
        if pages:
            continue
        if article.kind == "post":
            article.jsonld = jsonld.for_post(article, thread, site_url, license_url)
        else:
            article.jsonld = jsonld.for_thread(article, thread, site_url, license_url)


def drop_reply_text(generator) -> None:
    """article_generator_finalized: the replies' plain text has served (topics);
    the pages need only their HTML (JSON-LD takes its text from the HTML when
    the page is written). One copy of every reply less."""
    for article in _all_articles(generator):
        thread = getattr(article, "thread", None)
        if thread is not None:
            thread.text = ""


class DatedFeed(Atom1Feed):
    """An Atom feed dated by its newest entry, as feedgenerator dates it, or,
    with no entry yet, by `quiet_since` (the item's own date): feedgenerator
    would use the time of the build, and every build would change the file."""

    def __init__(self, *args, quiet_since=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.quiet_since = quiet_since

    def latest_post_date(self):
        if not self.items and self.quiet_since is not None:
            return self.quiet_since
        return super().latest_post_date()


def _feed(title: str, link: str, feed_url: str, description: str, quiet_since) -> DatedFeed:
    return DatedFeed(
        title=title,
        link=link,
        feed_url=feed_url,
        description=description,
        quiet_since=quiet_since,
    )


def _add_reply(feed: Atom1Feed, article, reply, domain: str) -> None:
    link = f"{domain}/{reply.url}" if domain else reply.url
    feed.add_item(
        title=f"{reply.author} on “{article.title}”",
        link=link,
        description=reply.html,
        author_name=reply.author,
        pubdate=reply.date,
        unique_id=get_tag_uri(link, reply.date),
    )


def owns(writer, name: str) -> bool:
    """Whether this process writes `name`: with the parallel plugin's writer,
    each worker process writes its own share of the paths."""
    check = getattr(writer, "owns", None)
    return check(name) if check else True


def _write_feed(output_path: str, save_as: str, feed: Atom1Feed) -> None:
    path = sanitised_join(output_path, save_as)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if os.path.isfile(path):  # never write through a link into the last build's file
        os.unlink(path)
    with open(path, "w", encoding="utf-8") as handle:
        feed.write(handle, "utf-8")


class ThreadPagesGenerator(Generator):
    """Writes continuation pages and reply feeds for every post and thread."""

    parallel_output = True  # every file goes through the writer or `owns`

    def generate_context(self):
        # Posts, threads and pages are all read by now: every slug is known.
        keys = ("articles", "drafts", "hidden_articles", "pages", "hidden_pages", "draft_pages")
        items = [item for key in keys for item in self.context.get(key, [])]
        slugs = {item.slug for item in items}
        by_file = {Path(item.source_path).stem: item.slug for item in items}
        # Every comment file is attached by now: its parsed text is not needed again.
        comments = self.context.pop("thread_comment_files", {})
        report_unmatched_folders(self.settings, comments, slugs, by_file)

    def _items(self):
        items = [*self.context.get("articles", []), *self.context.get("pages", [])]
        if self.settings.get("DRAFT_SAVE_AS"):
            items += list(self.context.get("drafts", []))
        return [a for a in items if getattr(a, "thread", None) is not None]

    def write_item(self, writer, article) -> None:
        """One post's or thread's continuation pages and reply feed (the dev
        server calls this for one item)."""
        thread: PackedThread = article.thread
        for page in article.reply_pages[1:]:
            # pelican-sitemap takes a page's URL and lastmod from the `article`
            # or `page` in its context: the continuation page is the `page`.
            writer.write_file(
                page.save_as,
                self.get_template("continuation"),
                self.context,
                thread_article=article,
                page=page,
                relative_urls=self.settings["RELATIVE_URLS"],
                url=page.url,
            )
        if not owns(writer, article.replies_feed_save_as):
            return
        reused = getattr(writer, "reuse_file", None)  # an incremental build (plugins/parallel)
        if reused is not None and reused(article.replies_feed_save_as, [article]):
            return
        visible = sorted(thread.visible, key=lambda r: (r.date, r.id), reverse=True)
        domain = (self.settings.get("FEED_DOMAIN") or "").rstrip("/")
        link = f"{domain}/{article.url}" if domain else article.url
        feed = _feed(
            f"Replies to “{article.title}”",
            link,
            f"{domain}/{article.replies_feed_url}",
            excerpt(plain_text(article.summary), 30),
            quiet_since=getattr(article, "modified", None) or article.date,
        )
        for reply in visible:
            _add_reply(feed, article, reply, domain)
        _write_feed(self.output_path, article.replies_feed_save_as, feed)

    def generate_output(self, writer):
        items = self._items()
        for article in items:
            self.write_item(writer, article)

        site_feed = self.settings.get("THREADS_FEED_ATOM")
        if site_feed and owns(writer, site_feed):
            # Only the process that writes the site-wide feed gathers the replies.
            domain = (self.settings.get("FEED_DOMAIN") or "").rstrip("/")
            feed = _feed(
                f"{self.settings['SITENAME']}: all replies",
                f"{domain}/",
                f"{domain}/{site_feed}",
                "Every reply on the site, newest first",
                quiet_since=max((a.date for a in items), default=None),
            )
            for reply, article in newest_replies(items, self.settings["THREADS_FEED_MAX_ITEMS"]):
                _add_reply(feed, article, reply, domain)
            _write_feed(self.output_path, site_feed, feed)


def newest_replies(items: list, count: int) -> list[tuple]:
    """The `count` newest visible replies of all items, newest first, as
    (reply, item) pairs. Threads are opened newest activity first, and only
    until no other thread can hold a newer reply than the ones found."""
    if count <= 0:
        return []
    position = {id(article): n for n, article in enumerate(items)}
    newest_first = sorted(
        (a for a in items if a.thread.reply_count),
        key=lambda a: a.thread.last_activity,
        reverse=True,
    )
    found: list[tuple] = []
    for article in newest_first:
        if len(found) >= count:
            kth = sorted((reply.date for reply, _ in found), reverse=True)[count - 1]
            if kth > article.thread.last_activity:
                break  # each of its replies is older than `count` found already
        found += [(reply, article) for reply in article.thread.visible]
    # In the order of the items and their replies, then newest first (a stable
    # sort keeps that order among replies of the same time and id).
    found.sort(key=lambda pair: position[id(pair[1])])
    found.sort(key=lambda pair: (pair[0].date, pair[0].id), reverse=True)
    return found[:count]


def get_generators(pelican):  # noqa: ARG001 - signal API
    return ThreadPagesGenerator


def _token_end(reply_id: str | None) -> str:
    return f"#{reply_id}]" if reply_id else "]"


def reply_subject_parts(title: str, slug: str, reply_id: str | None = None) -> tuple[str, str]:
    """Subject of a reply by e-mail, in two parts: the part every reply of the
    item shares, and the reply's own end of the token. Its token names the item
    and the reply answered; `make import SOURCE=email`
    (tools/importers/email_in.py) reads it."""
    return f"Re: {title} [reply-to: {slug}", _token_end(reply_id)


def removal_subject_parts(title: str, slug: str, reply_id: str | None = None) -> tuple[str, str]:
    """Subject of a removal request, in two parts as `reply_subject_parts`.
    Its token is the ITEM of `make takedown`."""
    return f"Removal request: {title} [remove: {slug}", _token_end(reply_id)


@lru_cache(maxsize=1024)
def _quoted_head(head: str) -> str:
    return quote(head, safe="/")


def _mailto(address: str, parts: tuple[str, str]) -> str:
    """`mailto:address?subject=...`. The subject's first part is quoted once
    for all the replies of an item (every reply has two links: 32,500 of
    them took 0.33 s quoted whole, 0.15 s so). Quoting works a character at
    a time, so the parts quoted apart give what the whole quoted gives."""
    head, tail = parts
    return f"mailto:{address}?subject={_quoted_head(head)}{quote(tail, safe='/')}"


def add_filters(generator) -> None:
    """generator_init: `{{ item | reply_mailto(reply) }}`, the mailto: address of
    a "Reply" link (reply omitted: a reply to the post or thread itself). A
    filter, not template code: it is on every reply of every page."""
    address = generator.settings["THREADS_REPLY_EMAIL"]

    def reply_mailto(item, reply=None) -> str:
        parts = reply_subject_parts(item.title, item.slug, reply.id if reply else None)
        return _mailto(address, parts)

    removal_address = generator.settings["THREADS_REMOVAL_EMAIL"]

    def removal_mailto(item, reply=None) -> str:
        parts = removal_subject_parts(item.title, item.slug, reply.id if reply else None)
        return _mailto(removal_address, parts)

    generator.env.filters["reply_mailto"] = reply_mailto
    generator.env.filters["removal_mailto"] = removal_mailto


def add_templates(generator) -> None:
    """generator_init: the plugin's default templates, after the theme's."""
    templates.add_defaults(generator, TEMPLATES)


def register() -> None:
    signals.initialized.connect(set_defaults)
    signals.readers_init.connect(install_reader)
    signals.article_generator_pretaxonomy.connect(attach_threads)
    signals.article_generator_finalized.connect(drop_reply_text)
    signals.page_generator_finalized.connect(attach_page_threads)
    signals.get_generators.connect(get_generators)
    signals.generator_init.connect(add_filters)
    signals.generator_init.connect(add_templates)
