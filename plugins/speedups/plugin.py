"""Take repeated work out of Pelican's output step; the pages stay the same.

Pelican recomputes things that no longer change once every generator has its
context, and the cost grows with the site:

* `Content.url` formats the URL setting again on every read (copying the
  metadata, working out the source path, formatting the date): about 20 µs,
  and a big site's listings, related lists, breadcrumbs, feeds and sitemap
  read it over a hundred thousand times. Once the context is complete, every
  post's, thread's and page's URL is worked out once and kept as Pelican's
  own `override_url` (what a `URL:` metadata line sets; an author's own is
  left alone). The save-as path (read for every item by each process that
  writes) is worked out once then too, and kept aside rather than as
  `override_save_as`, which Pelican reads as "may overwrite another file".
* The tag, author and category pages pick their items with
  `[a for a in dates if a in articles]`: every item of the site tested
  against a list, once per tag, author and category. Long lists become
  `Members`, a list whose `in` is a set lookup: same items, same order.
* An item's summary is worked out (HTML cut to SUMMARY_MAX_LENGTH words) for
  every depth of page that lists it, since it may link within the site, and
  by each output process again: a tenth of a millisecond each, several times
  per item, and a copy kept each time. When the text has no such link, the
  summary is the same on every page: it is worked out once per item, on every
  core, before the output step forks, and both processes read that one copy.
* A tag's, category's, author's or topic's `url` (and `save_as`, `page_name`)
  formats its setting on every read, through `as_dict`, which also gives each
  wrapper a dictionary of its own for good; Pelican makes a wrapper per item
  that names the tag. When the setting uses only `{name}` and `{slug}`, the
  result is kept per (kind, setting, name, slug) and formatted once.
* Two steps of Pelican's reading test every item against a list of items,
  which grows with the square of the site: each year's and month's archive
  picks its posts with `[a for a in articles if a in dates]` (5 s at 10,000
  items), and `process_translations` finds the translations with
  `[x for x in content_list if x not in index]` (2 s). The archives are
  built by Pelican with no posts, then given theirs by identity; translations
  are sorted out by Pelican one group of same-slug items at a time. Same
  items, same order, same warnings.
* Two small helpers of Pelican's are called tens of thousands of times with
  the same arguments: `get_relative_source_path` (two `abspath`s and a
  `relpath`) for every URL and save-as path worked out, and SafeDatetime's
  `strftime` (a regular expression pass and a C `strftime` per directive)
  for every date in a URL, a listing, a reply or the sitemap. The first
  depends on its arguments alone: each result is kept. The second is one C
  `strftime` of the whole format when the format has only the directives
  Pelican formats one by one anyway, and no `%-`; else one C `strftime` of
  its directives alone, joined by a separator, each piece then put (zeros
  stripped after `%-`) where Pelican's loop puts it: the same text.
* A build keeps almost everything it makes until the end: every post, its
  metadata, its rendered text. Python's garbage collector scans all of them
  again in each full collection (17 of them at 10,000 items, 1.6 s, against
  one at 1,000); a full collection is made ten times rarer here.
"""

from __future__ import annotations

import datetime
import functools
import gc
import os
import re
import string
from itertools import groupby
from operator import attrgetter

from pelican import signals
from pelican.contents import Article, Page

from stacks_offers import compat, reuse
from stacks_offers.forkmap import default_jobs, fork_map


class Members(list):
    """A list whose `in` tests identity with a set (Pelican's contents define no `==`).

    The set is built on first use and built again if the list's length has
    changed since, so an item added later is still found.
    """

    __slots__ = ("_ids", "_size")

    def __contains__(self, item) -> bool:
        if getattr(self, "_size", -1) != len(self):
            self._ids = {id(member) for member in self}
            self._size = len(self)
        return id(item) in self._ids

    def __reduce_ex__(self, protocol):  # pickles (and copies) as a plain list
        return (list, (list(self),))


# A Python-level `in` costs about as much as scanning this many items in C:
# shorter lists (an asker's one thread, say) stay plain lists.
MEMBERS_MIN = 32


def _members(items: list) -> list:
    return Members(items) if len(items) >= MEMBERS_MIN else items


def fast_membership(generator) -> None:
    """Long tag, author and category item lists as `Members` (article_generator_finalized)."""
    if not _active:
        return
    for tag, items in generator.tags.items():
        generator.tags[tag] = _members(items)
    generator.categories = [(cat, _members(items)) for cat, items in generator.categories]
    generator.authors = [(author, _members(items)) for author, items in generator.authors]
    # Pelican's own context keeps them as (name, items) pairs.
    generator.context["tags"] = list(generator.tags.items())
    generator.context["categories"] = generator.categories
    generator.context["authors"] = generator.authors


def _every_item(generators) -> list:
    """Every post, thread and page the generators hold, each once: whatever
    list a generator keeps them in (published, hidden, draft, translations),
    every list of posts or pages it holds is looked at."""
    found: dict[int, object] = {}
    for generator in generators:
        for value in list(vars(generator).values()):
            for item in value if isinstance(value, list) else ():
                if isinstance(item, Article | Page):
                    for one in (item, *getattr(item, "translations", ())):
                        found.setdefault(id(one), one)
    return list(found.values())


def fix_urls(generators) -> None:
    """Every post's, thread's and page's URL and save-as path computed once
    (all_generators_finalized; S5: Pelican's `url` returns `override_url` when
    it is set; S10: the save-as path is kept aside)."""
    if not _active:
        return
    items = _every_item(generators)
    for item in items:
        if not hasattr(item, "override_url"):
            item.override_url = item.url
    compat.keep_save_as(items)


class _Summary:
    """An item's `get_summary`, the same for every page (see `share_summaries`)."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __call__(self, _siteurl: str) -> str:
        return self.text


def share_summaries(generators) -> None:
    """Every summary that does not depend on the page, worked out once
    (all_generators_finalized, after `fix_urls`). Pelican's own `get_summary`
    is shadowed on the item by the kept text; other items keep Pelican's."""
    if not _active:
        return
    items = [item for item in _every_item(generators) if compat.summary_is_static(item)]
    if not items:
        return
    settings = items[0].settings
    # A static summary is made from the item's text and the settings alone: an
    # incremental build takes it from the store of per-item work by the text.
    storing = reuse.store(settings) is not None
    keys = [reuse.digest(compat.item_text(i)) if storing else None for i in items]
    found = reuse.recall_many(settings, "summary", keys) if storing else {}
    kept = [found.get(key, reuse.MISSING) for key in keys]
    todo = [n for n, summary in enumerate(kept) if summary is reuse.MISSING]
    made = iter(
        fork_map(
            reuse.keeping(
                settings,
                "summary",
                keys.__getitem__,  # None when not storing
                lambda n: items[n].get_summary(items[n].get_siteurl()),
            ),
            todo,
            jobs=default_jobs(settings),
            what="summaries",
            per_worker=250,  # a tenth of a millisecond each
        )
    )
    for item, summary in zip(items, kept, strict=True):
        if summary is reuse.MISSING:
            summary = next(made)
        item.get_summary = _Summary(summary)


@functools.lru_cache(maxsize=256)
def _name_and_slug_only(pattern: str) -> bool:
    fields = {field for _text, field, _spec, _conv in string.Formatter().parse(pattern)}
    return fields - {None} <= {"name", "slug"}


def _kept_url(key: str, get_page_name: bool = False) -> property:
    """A URLWrapper address property that formats each distinct address once."""

    def pelicans(wrapper) -> str:
        return compat.wrapper_address(wrapper, key, get_page_name)

    kept: dict[tuple, str] = {}

    def address(wrapper) -> str:
        pattern = wrapper.settings[f"{type(wrapper).__name__.upper()}_{key}"]
        if not _active or not isinstance(pattern, str) or not _name_and_slug_only(pattern):
            return pelicans(wrapper)  # anything else: Pelican's, every time
        found = kept.get(where := (type(wrapper), pattern, wrapper.name, wrapper.slug))
        if found is None:
            found = kept[where] = pelicans(wrapper)
        return found

    return property(address)


def _archives_by_identity(build):
    """Pelican's `_build_period_archives`, each archive's posts found by identity."""

    @functools.wraps(build)
    def period_archives(self, sorted_articles, articles, settings):
        if not _active:
            return build(self, sorted_articles, articles, settings)
        archives = build(self, sorted_articles, [], settings)
        for granularity in archives.values():
            for archive in granularity:
                dates = {id(item) for item in archive["dates"]}
                archive["articles"] = [item for item in articles if id(item) in dates]
        return archives

    period_archives.kept_by_identity = True
    return period_archives


def _translations_by_group(process):
    """Pelican's `process_translations`, run on each group of items that share a
    translation id (a slug, by default): the same originals, translations and
    warnings, without testing every item against the list of all originals."""

    @functools.wraps(process)
    def process_translations(content_list, translation_id=None):
        if not _active or not translation_id:
            return process(content_list, translation_id)
        fields = {translation_id} if isinstance(translation_id, str) else translation_id
        try:
            key = attrgetter(*fields)
            content_list.sort(key=key)
        except (TypeError, AttributeError):
            return process(content_list, translation_id)  # raises Pelican's message
        index, translations = [], []
        for _key, group in groupby(content_list, key):
            originals, others = process(list(group), translation_id)
            index.extend(originals)
            translations.extend(others)
        return index, translations

    process_translations.kept_by_identity = True
    return process_translations


def _dated(generator, articles) -> list:
    """A tag's, category's or author's items in the site's date order (Pelican's
    `[a for a in dates if a in articles]`, without going through every item of
    the site for each page: items x pages at 5,000 items and 1,250 authors)."""
    if not _active:
        return [article for article in generator.dates if article in articles]
    order = generator.__dict__.get("_date_order")
    if order is None or order[0] is not generator.dates or order[1] != len(generator.dates):
        positions = {id(article): n for n, article in enumerate(generator.dates)}
        order = generator._date_order = (generator.dates, len(generator.dates), positions)
    positions = order[2]
    found = {positions[id(a)]: a for a in articles if id(a) in positions}
    return [found[n] for n in sorted(found)]


KEPT_MAX = 100_000  # source paths kept (a few MiB at most); then it starts again


def _kept_relative_source_path(method):
    """Pelican's `Content.get_relative_source_path`, kept per (PATH, source path)."""
    kept: dict[tuple[str, str], str] = {}

    @functools.wraps(method)
    def get_relative_source_path(self, source_path=None):
        root = self.settings["PATH"]
        path = source_path or self.source_path
        if not _active or path is None or not os.path.isabs(root):
            return method(self, source_path)  # a relative PATH depends on the working folder
        found = kept.get((root, path))
        if found is None:
            if len(kept) >= KEPT_MAX:
                kept.clear()
            found = kept[(root, path)] = method(self, source_path)
        return found

    get_relative_source_path.kept = True
    return get_relative_source_path


# Pelican's strftime formats each C89 directive on its own (and strips zeros
# after a `%-`); a format made only of these, with no `%-`, comes out the same
# from one C strftime of the whole. Pelican's reading of a format: every "%"
# and the character after it (a "-" before that character too) is a
# candidate; a C89 one is formatted by the C strftime (zeros stripped after
# `%-`), any other is kept as written, and the text between them is a `%`
# template.
_C89 = "aAbBcdfGHIjmMpSUuVwWxXyYzZ%"
_DIRECTIVE = re.compile("%[-]?.")


@functools.lru_cache(maxsize=256)
def _c_strftime_will_do(fmt: str) -> bool:
    """ASCII (Pelican never hands the text around directives to C) without a
    NUL (where C's strftime stops), every directive a C89 one without `%-`,
    and no `%` outside a directive."""
    if not fmt.isascii() or "\x00" in fmt:
        return False
    plain = all(len(d) == len("%Y") and d[1] in _C89 for d in _DIRECTIVE.findall(fmt))
    return plain and "%" not in _DIRECTIVE.sub("", fmt)


_SEPARATOR = "\x1f"  # between directives in one C strftime: no directive writes it


@functools.lru_cache(maxsize=256)
def _directives(fmt: str) -> tuple[str, str, tuple] | None:
    """(the C89 directives of `fmt` joined by the separator, for one C strftime;
    the template; per candidate, None for a directive to fill in, `True` for one
    whose zeros are stripped, or the text kept as written), or None when the
    format holds the separator (never in a real one: left to Pelican)."""
    if _SEPARATOR in fmt:
        return None
    directives, slots = [], []
    for candidate in _DIRECTIVE.findall(fmt):
        if candidate[-1] in _C89:
            directives.append(f"%{candidate[-1]}")
            slots.append(len(candidate) == len("%-d") or None)
        else:
            slots.append(candidate)
    return _SEPARATOR.join(directives), _DIRECTIVE.sub("%s", fmt), tuple(slots)


def _by_directives(date, fmt: str):
    """Pelican's strftime of `fmt`, with one C strftime of all its directives
    rather than one each; None when that cannot be vouched for."""
    found = _directives(fmt)
    if found is None:
        return None
    joined, template, slots = found
    written = iter(datetime.datetime.strftime(date, joined).split(_SEPARATOR) if joined else ())
    values = []
    for slot in slots:
        if slot is None:
            values.append(next(written, None))
        elif slot is True:
            value = next(written, None)
            values.append(None if value is None else value.lstrip("0") or "0")
        else:
            values.append(slot)
    if None in values or next(written, None) is not None:
        return None  # a directive wrote the separator (no real one does)
    return template % tuple(values)


def _plain_strftime(method):
    """SafeDatetime's `strftime`, by one C strftime: of the whole format when it
    needs nothing of Pelican's own (`_c_strftime_will_do`), else of its
    directives joined (`_by_directives`), each piece then put where Pelican's
    loop puts it."""

    @functools.wraps(method)
    def strftime(self, fmt, safe=True):
        if _active and safe and isinstance(fmt, str):
            # A zone's name is put into the format before C reads it: one with
            # a NUL would end the whole text there, not only the name.
            if _c_strftime_will_do(fmt) and ("%Z" not in fmt or "\x00" not in str(self.tzname())):
                return datetime.datetime.strftime(self, fmt)
            text = _by_directives(self, fmt)
            if text is not None:
                return text
        return method(self, fmt, safe)

    strftime.kept = True
    return strftime


def keep_wrapper_urls() -> None:
    compat.replace_wrapper_addresses(_kept_url)


# Python runs a full collection after this many collections of the middle
# generation (its default: 10) and only once a quarter more objects have
# survived since the last one.
FULL_COLLECTION_AFTER = 100


def fewer_full_collections() -> None:
    young, middle, old = gc.get_threshold()
    gc.set_threshold(young, middle, max(old, FULL_COLLECTION_AFTER))


# Whether this build runs the speedups (`compat.speed_layer`), set when each
# build starts. Pelican's functions are replaced once per process, only when a
# build with the speed layer on starts; the replacements defer to Pelican's own
# while it is off.
_active = False


def start(pelican) -> None:
    """initialized: this build's settings say whether the speedups run."""
    global _active
    _active = compat.speed_layer(pelican.settings)
    if _active:
        keep_wrapper_urls()
        compat.replace_archives_and_translations(_archives_by_identity, _translations_by_group)
        compat.replace_listing_pages(_dated)
        compat.replace_pure_helpers(_kept_relative_source_path, _plain_strftime)
        compat.replace_save_as()
        fewer_full_collections()


def register() -> None:
    signals.initialized.connect(start)
    signals.article_generator_finalized.connect(fast_membership)
    signals.all_generators_finalized.connect(fix_urls)
    signals.all_generators_finalized.connect(share_summaries)
