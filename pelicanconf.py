"""Settings for local builds (`make html`, `make serve`, `make devserver`).

`publishconf.py` imports everything here and overrides what differs for the
published site.
"""

import sys
from functools import lru_cache
from pathlib import Path
from pkgutil import extend_path

import pelican
from jinja2 import pass_context
from markupsafe import Markup, escape
from pelican.settings import DEFAULT_CONFIG

HERE = Path(__file__).resolve().parent

AUTHOR = "Marisol Okafor"
SITENAME = "Stacks & Offers"
SITESUBTITLE = "Library job hunts, in posts and in threads"
SITEURL = ""
SITE_DESCRIPTION = (
    "A blog and community advice threads about looking for library work: "
    "applications, interviews, rejection, offers, negotiation and salary."
)

# The licence of the site's own writing: named in every page's footer and, as
# `license`, in the JSON-LD of posts and of threads started here. Replies, and
# threads imported from Reddit or Discourse (each says where it came from), stay
# their writers'. Empty LICENSE_URL: no `license` in JSON-LD; empty LICENSE_TEXT:
# no licence in the footer.
LICENSE_TEXT = "CC BY 4.0"
LICENSE_URL = "https://creativecommons.org/licenses/by/4.0/"

PATH = "content"
OUTPUT_PATH = "output"
THEME = "theme"

TIMEZONE = "America/Chicago"
# C.UTF-8 exists on every bare Linux machine; a named locale may not.
LOCALE = ("C.UTF-8",)
DEFAULT_LANG = "en"
DEFAULT_DATE_FORMAT = "%-d %B %Y"

# Content kinds: blog posts and Q&A threads are articles; comments are read by
# the threads plugin only, never by Pelican as articles of their own.
ARTICLE_PATHS = ["posts", "threads"]
ARTICLE_EXCLUDES = ["comments"]
PAGE_PATHS = ["pages"]
STATIC_PATHS = ["images"]
PAGE_EXCLUDES = ["comments"]

# Slugs become file names: cap them at 80 characters (at a word boundary when
# there is one), so a very long title, tag or name cannot exceed the file
# system's limit. Tags, categories and authors use these rules too.
SLUG_REGEX_SUBSTITUTIONS = [
    *DEFAULT_CONFIG["SLUG_REGEX_SUBSTITUTIONS"],
    (r"^(?=.{81})(.{1,80})-.*$", r"\1"),
    (r"^(.{80}).+$", r"\1"),
]

ARTICLE_URL = "{date:%Y}/{slug}/"
ARTICLE_SAVE_AS = "{date:%Y}/{slug}/index.html"
PAGE_URL = "{slug}/"
PAGE_SAVE_AS = "{slug}/index.html"
CATEGORY_URL = "category/{slug}/"
CATEGORY_SAVE_AS = "category/{slug}/index.html"
TAG_URL = "tag/{slug}/"
TAG_SAVE_AS = "tag/{slug}/index.html"
AUTHOR_URL = "author/{slug}/"
AUTHOR_SAVE_AS = "author/{slug}/index.html"
CATEGORIES_SAVE_AS = "categories/index.html"
CATEGORIES_URL = "categories/"
TAGS_SAVE_AS = "tags/index.html"
TAGS_URL = "tags/"
AUTHORS_SAVE_AS = "authors/index.html"
AUTHORS_URL = "authors/"
ARCHIVES_SAVE_AS = "archives/index.html"
ARCHIVES_URL = "archives/"
YEAR_ARCHIVE_SAVE_AS = "{date:%Y}/index.html"
YEAR_ARCHIVE_URL = "{date:%Y}/"
MONTH_ARCHIVE_SAVE_AS = "{date:%Y}/{date:%m}/index.html"
MONTH_ARCHIVE_URL = "{date:%Y}/{date:%m}/"
DIRECT_TEMPLATES = ["index", "categories", "tags", "authors", "archives", "search", "404"]
SEARCH_SAVE_AS = "search/index.html"
SEARCH_URL = "search/"
TEMPLATE_PAGES = {}
_404_SAVE_AS = "404.html"

DEFAULT_PAGINATION = 10
PAGINATION_PATTERNS = (
    (1, "{url}", "{save_as}"),
    (2, "{base_name}/page/{number}/", "{base_name}/page/{number}/index.html"),
)

# Feeds: absolute URLs need SITEURL, so local builds write them too (relative)
# and publishconf.py sets the real domain.
# Feeds need absolute links: local builds point them at `make serve`.
FEED_DOMAIN = "http://localhost:8000"
FEED_ALL_ATOM = "feeds/all.atom.xml"
CATEGORY_FEED_ATOM = "feeds/category/{slug}.atom.xml"
TAG_FEED_ATOM = None
AUTHOR_FEED_ATOM = None
AUTHOR_FEED_RSS = None
TRANSLATION_FEED_ATOM = None
FEED_MAX_ITEMS = 20

SUMMARY_MAX_LENGTH = 40

# The theme escapes everything by default; only rendered, sanitised content is
# marked safe in the templates.
JINJA_ENVIRONMENT = {
    "trim_blocks": True,
    "lstrip_blocks": True,
    "extensions": ["jinja2.ext.do"],
    "autoescape": True,
    # Templates do not change during a build (the dev server starts a new one for
    # each change): no file check on every include in a loop.
    "auto_reload": False,
}


def _time_element(when, fmt: str) -> Markup:
    # What Markup(...).format(...) gives (each value escaped), without its
    # formatter: this is made for every reply on every page that shows it.
    return Markup(
        f'<time datetime="{escape(when.isoformat())}">{escape(when.strftime(fmt))}</time>'
    )


@lru_cache(maxsize=65536)
def _listed_time(when, offset, zone, fmt: str) -> Markup:  # noqa: ARG001 - cache key
    # Equal instants are equal datetimes: the offset and zone name are part of
    # the key, since the same instant in another zone reads differently.
    return _time_element(when, fmt)


@pass_context
def time_tag(context, when, fmt=None) -> Markup:
    """`{{ date | time_tag }}`: a date as <time>, in DEFAULT_DATE_FORMAT unless
    given a format. A filter, not a macro: it is used for every reply and
    listing item. Dates in the default format (items' dates, on every listing
    they are on) are formatted once and kept; a time in a format of its own (a
    reply's, shown on one page) is not kept."""
    if fmt:
        return _time_element(when, fmt)
    return _listed_time(when, when.utcoffset(), when.tzname(), context["DEFAULT_DATE_FORMAT"])


def rendered_once(item, name: str, macro) -> Markup:
    """`{{ item | rendered_once("status", thread_status) }}`: the macro's output
    for item, rendered on first use and kept on the item (an item is listed on
    a dozen pages). Only for output that is the same on every page: nothing
    from SITEURL or other page variables in it. (An incremental build notes
    what the macro read of the item on every page that shows the output.)"""
    from stacks_offers.reuse import remembered  # on the path: see PLUGIN_PATHS below

    return remembered(item, name, lambda: macro(item))


rendered_once.reads_through_jinja = True  # the macro reads the item through Jinja


JINJA_FILTERS = {"time_tag": time_tag, "rendered_once": rendered_once}

MARKDOWN = {
    "extension_configs": {
        "markdown.extensions.extra": {},
        "markdown.extensions.toc": {},
        "markdown.extensions.smarty": {},
        # The same HTML, sooner (1.7 times on a real post, 2 to 2.7 on the
        # benchmark's): inline patterns skip text they cannot match
        # (stacks_offers/markdown_guards.py).
        "stacks_offers.markdown_guards": {},
    },
    "output_format": "html5",
}

# threads, topics and indexes are in pelican/plugins/, laid out as the
# pelican-plugins organisation lays out its plugins so that `pip install` can
# put them in any site (README "Using the plugins in another Pelican site").
# Here they are used where they are: Pelican adds every `pelican/` folder on
# sys.path to its package when it is first imported, and these settings are
# read after that, so the one in this folder is added here.
# The speed layer (parallel, speedups) is this site's own, in plugins/.
PLUGIN_PATHS = [str(HERE / "plugins")]
for _folder in (str(HERE), PLUGIN_PATHS[0]):
    if _folder not in sys.path:
        sys.path.insert(0, _folder)
pelican.__path__[:] = extend_path(pelican.__path__, "pelican")
# Order matters: parallel first (it reads the content before the others look at
# it); topics reads the replies; indexes reads replies and topics; readers
# reads what threads set (the Ask page, question outcomes).
PLUGINS = [
    "parallel",
    "speedups",
    "pelican.plugins.threads",
    "pelican.plugins.topics",
    "pelican.plugins.indexes",
    "readers",
    "pelican.plugins.sitemap",
]
# Worker processes for reading and writing (None: the BUILD_JOBS environment
# variable, else every core; 1: everything in one process).
BUILD_JOBS = None
# The speed layer (plugins/parallel, plugins/speedups, the dev server's one-page
# rewrite): off by itself, with a warning, on a Pelican version it was not
# verified on (stacks_offers/compat.py); False builds with plain Pelican, silently.
SPEED_LAYER = True

# Threads plugin (docs/settings.md lists every plugin setting and its default).
THREADS_PATH = "threads"
THREADS_COMMENTS_PATH = "comments"
THREADS_MAX_DEPTH = 6
THREADS_REPLY_EMAIL = "replies@stacks-and-offers.example.org"
# Where "Request removal" links write to (empty: THREADS_REPLY_EMAIL's address).
THREADS_REMOVAL_EMAIL = ""

# pelican-sitemap: every canonical page; a thread's lastmod is its last reply
# (the indexes plugin sets a thread's `modified` to it).
SITEMAP = {"format": "xml", "exclude": [r"^404\.html$", r"^robots\.txt$"]}

MENUITEMS = ()
DISPLAY_PAGES_ON_MENU = True
DISPLAY_CATEGORIES_ON_MENU = False

RELATIVE_URLS = True
DELETE_OUTPUT_DIRECTORY = False
CACHE_CONTENT = False
LOAD_CONTENT_CACHE = False
