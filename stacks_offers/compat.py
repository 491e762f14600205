"""Every place the project reaches into Pelican's or pelican-sitemap's internals.

Pelican's public surface (settings, signals, generators' documented attributes,
`Readers.read_file`, `Writer.write_file` and `write_feed`, content objects'
documented attributes) is used directly everywhere. Anything else (a private
name, a method replaced, an assumption on the order Pelican does things in,
a copy of a piece of Pelican's own logic) is reached only through this module,
and each one says what it relies on.

The speed layer (`plugins/parallel`, `plugins/speedups`, the dev server's
one-page rewrite) was verified on the versions in VERIFIED. On any other
version it switches itself off: one warning names the version, and the site is
built by plain Pelican in one process (the same site, more slowly), so a
changed internal can never change the site silently. `SPEED_LAYER = False` in
the settings builds without it on purpose, and says nothing.

What the speed layer relies on, one line each (the functions below hold them):

reading (threads plugin, any version; a change breaks the build loudly)
  R1 MarkdownReader._parse_metadata(meta) reads `self._md` and `self._source_path`
  R2 Python-Markdown's meta preprocessor is registered at priority 27
  R3 Content._content is an item's text as its reader gave it, before links
     within the site are written for a page (topics plugin, `item_text`)
writing (parallel)
  W1 Writer._open_w(filename, encoding, override) opens every file a page or
     feed is written to (`OwningWriter`)
  W2 Writer.write_file renders `template.render(context)` with the page's path
     in `context["output_file"]`, and sends `content_written(path, context=...)`
     with the context built as in `written_context`
  W3 Writer.write_file paginates when `paginated` (or `articles`/`dates` given
     as keywords) is set and the template is in PAGINATED_TEMPLATES (`paginates`)
  W4 (incremental builds, stacks_offers/reuse.py) W1 and W2 as above: a page
     found unchanged is not rendered, and its file is linked in when Pelican
     opens it. What a template reads is seen through Jinja's own documented
     Environment.getattr / getitem and its filters (not Pelican's).
  W5 Writer.write_file's paginated loop makes its pages with
     `Paginator(name, url, items, settings, per_page).page(n)` and writes page n
     as a single page `page.save_as` with the keywords in `numbered_pages`
  W6 a file an item links with `{attach}` is moved beside the item
     (`Static.attach_to`) when the item's text is first written for a page
     (`Content._update_content`, through `get_content`), and static files are
     copied after (by the main process here) to where the move put them
order (parallel)
  O1 `all_generators_finalized` gets the list of generators Pelican then runs
     `generate_output` on, in that order: inserting into it adds a step
  O2 every generator's context is complete when `all_generators_finalized` is sent
speedups
  S1 URLWrapper.url, .save_as and .page_name are properties that call
     `URLWrapper._from_settings(key, get_page_name)` (`kept_wrapper_address`)
  S2 ArticlesGenerator._build_period_archives(sorted_articles, articles,
     settings) gives {granularity: [{"dates", "articles", ...}]}
  S3 pelican.generators.process_translations(content_list, translation_id) is
     looked up as a module global when generators run
  S4 Content._content is the rendered text, `_get_intrasite_link_regex()` finds
     links within the site, and `get_summary(siteurl)` is what templates read
     through `summary`; a plugin that computes content sets `_get_content`
  S5 Content.override_url, when set, is what `url` returns
  S10 Content.save_as is a property that calls `get_url_setting("save_as")`
     (Static's adds a flag and calls it through `super()`); replaced by one
     that returns the path kept by `keep_save_as` when there is one
  S6 ArticlesGenerator.generate_tags, generate_categories and generate_authors
     are the loop in `_listing_pages` (a copy of Pelican's three), but for how
     each page's `dates` is found (`replace_listing_pages`)
  S7 Content.get_relative_source_path(source_path) depends only on the source
     path and settings["PATH"] (and, when PATH is relative, the working folder)
  S8 SafeDatetime.strftime(fmt) (safe) is pelican.utils.strftime: each `%x` or
     `%-x` directive formatted on its own by the C strftime (C89 ones; any
     other left as written), zeros stripped after `%-`; it is what `format`
     and Jinja call for a date's `{date:%Y}` or `strftime`
  S9 Content.get_content(siteurl) is `_update_content(_content, siteurl)`,
     memoized by pelican.utils.memoized in one dict on the method
     (`Content.get_content.cache`, keyed (item, siteurl)); `content` and the
     feed writer call `item.get_content(...)`, so an attribute of that name on
     the item is what they get (`pack_contents`)
pelican-sitemap (indexes plugin)
  P1 a page that is not a post or page (a listing) gets `generator.now` as its
     lastmod: the time the module was imported
clean-up between builds in one process (dev server, tests)
  C1 pelican-sitemap keeps `generator._main_pelican` and `page_queue` until
     the run sends `finalized`
  C2 pelican.log.LimitFilter keeps `_ignore`, `_raised_messages` and
     `_group_count` for the whole process
"""

from __future__ import annotations

import functools
import logging
import os
import zlib
from concurrent.futures import ThreadPoolExecutor
from importlib import metadata as package_metadata

from pelican import signals
from pelican.utils import get_relative_path, path_to_url, sanitised_join
from pelican.writers import Writer

logger = logging.getLogger(__name__)

VERIFIED = {"pelican": "4.12.0", "pelican-sitemap": "1.2.2"}
# Test hook: "pelican=9.9" makes this module report that version instead of the
# installed one (a test builds the site as an unverified version would).
REPORT_VERSIONS_ENV = "COMPAT_REPORT_VERSIONS"
NOT_INSTALLED = "not installed"


def installed_versions() -> dict[str, str]:
    return dict(_versions(os.environ.get(REPORT_VERSIONS_ENV, "")))


@functools.lru_cache(maxsize=8)
def _versions(reported: str) -> tuple[tuple[str, str], ...]:
    found = {}
    for name in VERIFIED:
        try:
            found[name] = package_metadata.version(name)
        except package_metadata.PackageNotFoundError:
            found[name] = NOT_INSTALLED
    for pair in reported.split(","):
        name, _, version = pair.partition("=")
        if name.strip() in VERIFIED and version.strip():
            found[name.strip()] = version.strip()
    return tuple(found.items())


def unverified() -> list[str]:
    """The packages whose installed version the speed layer was not verified on.
    One that is not installed is not reached (a site using the threads plugin
    without pelican-sitemap): nothing of it to verify."""
    installed = installed_versions()
    return [
        f"{name} {installed[name]} (verified: {version})"
        for name, version in VERIFIED.items()
        if installed[name] not in (version, NOT_INSTALLED)
    ]


def speed_layer(settings) -> bool:
    """Whether the speed layer runs in this build: on by default, off with
    `SPEED_LAYER = False`, and off on a version of Pelican or pelican-sitemap it
    was not verified on, which the first call of each build (each settings
    dictionary) logs as one warning."""
    if not (settings or {}).get("SPEED_LAYER", True):
        return False
    changed = unverified()
    if changed:
        if settings is not None and not settings.get("_SPEED_LAYER_WARNED"):
            settings["_SPEED_LAYER_WARNED"] = True
            logger.warning(
                "The speed layer (worker processes; plugins/parallel and plugins/speedups where "
                "used) was not verified on %s: "
                "this build runs without it, in one process (the same site, more slowly). "
                "Install the versions in requirements.txt, or set SPEED_LAYER = False in the "
                "settings to build without it and without this warning.",
                ", ".join(changed),
            )
        return False
    return True


# --- R: reading -----------------------------------------------------------------

META_PRIORITY = 27  # R2


def markdown_metadata(reader, md, source_path: str) -> dict:
    """R1: Pelican's MarkdownReader metadata step on an already converted `md`."""
    reader._source_path, reader._md = source_path, md
    return reader._parse_metadata(md.Meta)


# --- W: writing -----------------------------------------------------------------


class OwningWriter(Writer):
    """W1: Pelican's writer, asking `opened(name)` before each file is opened
    (name relative to the output folder); False writes it to nowhere."""

    def opened(self, name: str) -> bool:  # noqa: ARG002 - for subclasses
        return True

    def _open_w(self, filename, encoding, override=False):
        name = os.path.normpath(os.path.relpath(filename, self.output_path))
        if self.opened(name):
            return super()._open_w(filename, encoding, override)
        return open(os.devnull, "w", encoding=encoding)


def send_written(output_path: str, name: str, context: dict, relative_urls, kwargs) -> None:
    """W2: `content_written` for a page this process does not write, with the
    context Pelican's `write_file` would have sent it with."""
    local = context.copy()
    local["localsiteurl"] = local.get("localsiteurl", None)
    if relative_urls:
        relative = path_to_url(get_relative_path(name))
        local["SITEURL"] = local["localsiteurl"] = relative
    local["output_file"] = name
    local.update(kwargs)
    signals.content_written.send(sanitised_join(output_path, name), context=local)


def _paginated(paginated, kwargs) -> dict:
    if paginated is None:
        paginated = {key: kwargs[key] for key in ("articles", "dates") if key in kwargs}
    return paginated


def paginates(settings, paginated, template_name, kwargs) -> bool:
    """W3: whether Pelican's write_file would cut this page into numbered pages."""
    return bool(_paginated(paginated, kwargs)) and template_name in settings["PAGINATED_TEMPLATES"]


def numbered_pages(settings, name, url, paginated, template_name, kwargs):
    """W5: the numbered pages Pelican's write_file cuts a paginated page into,
    as (the page's path, the keywords its template gets): a copy of its loop,
    so that each page can be decided on (another process's, unchanged) before
    Pelican makes its folder and opens its file. Writing one page with
    `paginated={}` and these keywords renders it as Pelican's loop would."""
    from pelican.paginator import Paginator

    paginated = _paginated(paginated, kwargs)
    per_page = settings["PAGINATED_TEMPLATES"][template_name] or settings["DEFAULT_PAGINATION"]
    paginators = {
        key: Paginator(name, url, val, settings, per_page) for key, val in paginated.items()
    }
    for page_num in range(next(iter(paginators.values())).num_pages):
        page_kwargs = kwargs.copy()
        for key, paginator in paginators.items():
            previous_page = paginator.page(page_num) if page_num > 0 else None
            page = paginator.page(page_num + 1)
            next_page = paginator.page(page_num + 2) if page_num + 1 < paginator.num_pages else None
            page_kwargs.update(
                {
                    f"{key}_paginator": paginator,
                    f"{key}_page": page,
                    f"{key}_previous_page": previous_page,
                    f"{key}_next_page": next_page,
                }
            )
        yield page.save_as, page_kwargs


def attach_linked_files(items) -> int:
    """W6: every item whose text links a file with `{attach}` has its text
    written once, here, so that the file is moved beside it in this process.
    Pelican moves the file when it first writes the item's text for a page;
    with the pages shared out among processes (and an incremental build
    rendering few of them) that may happen only in a worker, or not at all,
    and the main process, which copies the static files, would copy the file
    to its own place while the item's page links it beside the item. Called
    in the main process before the writing step forks, on the items in the
    order Pelican's writing step comes to them (posts, then pages), so two
    items attaching one file settle it as Pelican does: the first moves it and
    the second is warned. How many items had such a link."""
    done = 0
    for item in items:
        text = item_text(item)
        if "attach" not in text:  # most items: not worth the expression's pass
            continue
        found = item._get_intrasite_link_regex().finditer(text)
        if any(match.group("what") == "attach" for match in found):
            item.get_content(item.get_siteurl())
            done += 1
    return done


# --- S: speedups ----------------------------------------------------------------


def wrapper_address(wrapper, key: str, get_page_name: bool = False) -> str:
    """S1: what Pelican's URLWrapper property computes."""
    from pelican.urlwrappers import URLWrapper

    return URLWrapper._from_settings(wrapper, key, get_page_name=get_page_name)


def replace_wrapper_addresses(make_property) -> None:
    """S1: URLWrapper's url, save_as and page_name, each replaced by
    `make_property(key, get_page_name)`; once per process."""
    from pelican.urlwrappers import URLWrapper

    if getattr(URLWrapper, "_urls_kept", False):
        return
    URLWrapper.url = make_property("URL")
    URLWrapper.save_as = make_property("SAVE_AS")
    URLWrapper.page_name = make_property("URL", get_page_name=True)
    URLWrapper._urls_kept = True


_KEPT_SAVE_AS = "_kept_save_as"


def _save_as_kept(pelicans):
    def save_as(self) -> str:
        kept = self.__dict__.get(_KEPT_SAVE_AS)
        return pelicans.fget(self) if kept is None else kept

    save_as.pelicans = pelicans
    return property(save_as)


def replace_save_as() -> None:
    """S10: Content.save_as replaced, once per process, by a property that
    returns the path `keep_save_as` kept, and Pelican's for an item with
    nothing kept (the speed layer off, or an item made after it ran)."""
    from pelican.contents import Content

    if not hasattr(Content.save_as.fget, "pelicans"):
        Content.save_as = _save_as_kept(Content.save_as)


def keep_save_as(items) -> None:
    """S10: each item's save-as path worked out once more, and kept: Pelican
    formats the setting again on every read (the writing step reads it for
    every item, in every process). For an item whose path an `override_save_as`
    sets, what Pelican gives is kept as well."""
    replace_save_as()  # in place already when the speedups started
    for item in items:
        item.__dict__[_KEPT_SAVE_AS] = item.save_as


def replace_archives_and_translations(archives, translations) -> None:
    """S2, S3: ArticlesGenerator._build_period_archives and
    pelican.generators.process_translations wrapped (`archives(build)`,
    `translations(process)`); once per process."""
    import pelican.generators

    articles = pelican.generators.ArticlesGenerator
    if not getattr(articles._build_period_archives, "kept_by_identity", False):
        articles._build_period_archives = archives(articles._build_period_archives)
    process = pelican.generators.process_translations
    if not getattr(process, "kept_by_identity", False):
        pelican.generators.process_translations = translations(process)


def replace_pure_helpers(relative_source_path, strftime) -> None:
    """S7, S8: Content.get_relative_source_path and SafeDatetime.strftime
    wrapped (`relative_source_path(method)`, `strftime(method)`); once per
    process."""
    from pelican.contents import Content
    from pelican.utils import SafeDatetime

    if not getattr(Content.get_relative_source_path, "kept", False):
        Content.get_relative_source_path = relative_source_path(Content.get_relative_source_path)
    if not getattr(SafeDatetime.strftime, "kept", False):
        SafeDatetime.strftime = strftime(SafeDatetime.strftime)


# S6: (template and keyword, where the generator keeps the pages' items, the name its messages use)
_LISTINGS = {
    "generate_tags": ("tag", lambda g: g.tags.items(), "Tag", "tags"),
    "generate_categories": ("category", lambda g: g.categories, "Category", "categories"),
    "generate_authors": ("author", lambda g: g.authors, "Author", "authors"),
}


def _listing_pages(method: str, dated):
    """S6: Pelican's tag, category or author pages loop, each page's `dates`
    given by `dated(generator, articles)` (Pelican tests every post of the site
    against each page's list, items x pages)."""
    from pelican.writers import FileOverwriteFailedError

    kind, pairs, label, plural = _LISTINGS[method]

    def generate(self, write):
        template = self.get_template(kind)
        for wrapper, articles in pairs(self):
            try:
                write(
                    wrapper.save_as,
                    template,
                    self.context,
                    url=wrapper.url,
                    articles=articles,
                    dates=dated(self, articles),
                    template_name=kind,
                    blog=True,
                    page_name=wrapper.page_name,
                    all_articles=self.articles,
                    **{kind: wrapper},
                )
            except FileOverwriteFailedError:
                if not wrapper.slug:
                    logger.info(
                        f'{label} "%s" has an invalid slug; skipping writing {kind} page...',
                        wrapper,
                        extra={"limit_msg": f"Further {plural} with invalid slugs."},
                    )
                    continue
                logger.error(f'Failed to write {label} page for "%s".', wrapper)
                raise

    generate.dated_once = True
    return generate


def replace_listing_pages(dated) -> None:
    """S6: the tag, category and author pages' loops replaced; once per process."""
    from pelican.generators import ArticlesGenerator

    for method in _LISTINGS:
        if not getattr(getattr(ArticlesGenerator, method), "dated_once", False):
            setattr(ArticlesGenerator, method, _listing_pages(method, dated))


def summary_is_static(item) -> bool:
    """S4: whether Pelican's summary of `item` is the same on every page: no
    `Summary:` of its own, no content computed by a plugin, no link within the
    site in its text (the one part that changes with the page). An item whose
    text is packed (`pack_contents`) answers as it did before."""
    if "summary" in item.metadata or hasattr(item, "_get_content"):
        return False
    packed = item.__dict__.get("get_content")
    if isinstance(packed, _PackedContent):
        return not packed.links
    return not _links_within(item, item._content)


def _links_within(item, text) -> bool:
    return item._get_intrasite_link_regex().search(text or "") is not None


def item_text(item) -> str:
    """R3: an item's text as its reader gave it, its links within the site not
    yet written for a page. Pelican's `content` writes them and keeps the
    result in its memo (S9): asked before every item is read (to tag topics,
    say), a link to a page read later stays unwritten there, and the feeds
    showed it so. A static summary (`summary_is_static`) is made from it. An
    item whose content a plugin computes gets `content`."""
    if hasattr(item, "_get_content"):
        return item.content
    packed = item.__dict__.get("get_content")
    if isinstance(packed, _PackedContent):
        return packed.text()
    return item._content or ""


class _PackedContent:
    """S9: an item's `get_content`, its text kept compressed until a page asks,
    with whether the text links within the site (`summary_is_static`)."""

    __slots__ = ("item", "links", "packed")

    def __init__(self, item, packed: bytes, links: bool) -> None:
        self.item, self.packed, self.links = item, packed, links

    def text(self) -> str:
        return zlib.decompress(self.packed).decode("utf-8", "surrogatepass")

    def __call__(self, siteurl: str) -> str:
        return self.item._update_content(self.text(), siteurl)


def pack_contents(items) -> int:
    """S9: keep each item's text compressed until its page is written.

    Before the writing step forks: each writing process touches every item it
    lists (reference counts), which makes its own copy of each memory page the
    text lies on, so the text would be held once per process. Compressed, it
    takes a third. Pelican's memo of `get_content` is emptied too (it holds
    the very same strings). `_content` is removed, so anything that reads it
    afterwards fails rather than finding nothing; what is asked of the text
    later through this module (`summary_is_static`, `item_text`) is answered
    from the packed copy. Returns how many items were packed."""
    from pelican.contents import Content

    todo = [
        item
        for item in dict.fromkeys(items)
        if isinstance(item.__dict__.get("_content"), str)
        and item.__dict__["_content"]
        and not hasattr(item, "_get_content")
    ]
    # zlib lets go of the interpreter lock while it compresses: two threads,
    # each with half of the texts, use two cores.
    halves = [todo[: len(todo) // 2], todo[len(todo) // 2 :]]
    with ThreadPoolExecutor(max_workers=2) as pool:
        packed = [data for half in pool.map(_compressed, halves) for data in half]
    for item, data in zip(todo, packed, strict=True):
        item.get_content = _PackedContent(item, data, _links_within(item, item._content))
        del item._content
    Content.__dict__["get_content"].cache.clear()
    return len(todo)


def _compressed(items) -> list[bytes]:
    return [zlib.compress(item._content.encode("utf-8", "surrogatepass"), 1) for item in items]


# --- P: pelican-sitemap ---------------------------------------------------------


def set_listing_lastmod(when) -> None:
    """P1: the lastmod pelican-sitemap gives listing pages (home, tags, archives...)."""
    import sys

    sitemap = sys.modules.get("pelican.plugins.sitemap.sitemap")
    if sitemap is not None and hasattr(sitemap.generator, "now"):
        sitemap.generator.now = when


# --- C: between builds in one process -----------------------------------------


def forget_stopped_build() -> None:
    """C1: after a build that stopped, let the next one in this process write a
    sitemap (pelican-sitemap would skip it, waiting for the stopped run)."""
    import sys

    sitemap = sys.modules.get("pelican.plugins.sitemap.sitemap")
    if sitemap is not None:
        sitemap.generator._main_pelican = None
        sitemap.generator.page_queue = []


def forget_logged_messages() -> None:
    """C2: Pelican drops a warning it has logged before in this process; each
    build (in the tests, in the dev server) must show all of its own."""
    from pelican.log import LimitFilter

    LimitFilter._ignore.clear()
    LimitFilter._raised_messages.clear()
    LimitFilter._group_count.clear()
