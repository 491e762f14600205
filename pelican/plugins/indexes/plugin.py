"""Ways through the site: category descriptions, question lists, related items.

Runs after the threads and topics plugins (it reads replies and topics) and
before anything is written: its generator's context step sets
`article.related` and `category.description`, and its output step writes the
three question lists and robots.txt. The sitemap is pelican-sitemap's; the
search index is built after the site by tools/build.py (Pagefind).
"""

from __future__ import annotations

import difflib
import logging
import os
import tomllib
from pathlib import Path
from urllib.parse import urlsplit

from pelican import signals
from pelican.generators import Generator
from pelican.plugins.threads.render import plain_address
from pelican.utils import sanitised_join

from stacks_offers import compat, contract, reuse, templates
from stacks_offers.forkmap import default_jobs, fork_map
from stacks_offers.metadata import metadata_line

from .related import rank_related

logger = logging.getLogger(__name__)

# Default questions.html, redirect.html and robots.txt, for a theme without them.
TEMPLATES = Path(__file__).parent / "templates"

QUESTION_LISTS = {
    # key: (title, lead, sort key)
    "questions": ("All questions and discussions", "Every thread, newest first."),
    "questions_active": ("Recently active threads", "Threads with the newest replies first."),
    "questions_unanswered": (
        "Unanswered questions",
        "Threads nobody but the asker has replied to yet, newest first. Can you help?",
    ),
}

DEFAULTS = {
    "QUESTIONS_URL": "questions/",
    "QUESTIONS_SAVE_AS": "questions/index.html",
    "QUESTIONS_ACTIVE_URL": "questions/active/",
    "QUESTIONS_ACTIVE_SAVE_AS": "questions/active/index.html",
    "QUESTIONS_UNANSWERED_URL": "questions/unanswered/",
    "QUESTIONS_UNANSWERED_SAVE_AS": "questions/unanswered/index.html",
    "CATEGORIES_DATA": "categories.toml",  # under PATH: descriptions of categories
    "RELATED_MAX": 5,
    "RELATED_TOPIC_WEIGHT": 2.0,  # a shared topic counts more than a shared tag
    "RELATED_TAG_WEIGHT": 1.0,
    "RELATED_WINDOW": 50,  # per shared term, look at most this many items each side in time
    "ROBOTS_SAVE_AS": "robots.txt",
    # Old addresses of imported items (their Original-URL) keep working: a small
    # redirect page at each old path, and the same as maps a web server loads.
    "REDIRECTS_NETLIFY_SAVE_AS": "_redirects",
    "REDIRECTS_NGINX_SAVE_AS": "redirects.nginx.map",
    # The picture social sites show beside a shared link (og:image), where an
    # item names none with `Image:`: a path on the site (the theme's own PNG).
    "SHARE_IMAGE": "theme/images/share.png",
}

# What social sites show as a link's picture: no SVG (most refuse it).
SHARE_IMAGE_TYPES = (".png", ".jpg", ".jpeg", ".gif", ".webp")


def set_defaults(pelican) -> None:
    settings = pelican.settings
    contract.check_order(settings)
    for key, value in DEFAULTS.items():
        settings.setdefault(key, value)
    paginated = dict(settings.get("PAGINATED_TEMPLATES", {}))
    paginated.setdefault("questions", None)
    settings["PAGINATED_TEMPLATES"] = paginated
    for key in ("RELATED_MAX", "RELATED_WINDOW"):
        if not isinstance(settings[key], int) or settings[key] < 0:
            raise ValueError(f"{key} is {settings[key]!r}: set it to a whole number >= 0")


def mark_thread_activity(generator) -> None:
    """A thread's page changes with every reply: its `modified` is the last one.

    Pelican's feeds and pelican-sitemap's lastmod both read `modified`.
    An author's own `Modified:` wins when it is later.
    """
    for article in generator.articles:
        thread = getattr(article, "thread", None)
        if thread is None or article.kind == "post" or not thread.reply_count:
            continue
        current = getattr(article, "modified", None)
        if current is None or thread.last_activity > current:
            article.modified = thread.last_activity
            article.locale_modified = article.modified.strftime(article.date_format)


def read_category_descriptions(settings) -> dict[str, str]:
    path = Path(settings["PATH"]) / settings["CATEGORIES_DATA"]
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        logger.error("%s: not valid TOML: %s. Fix the line it names.", path, exc)
        return {}
    descriptions = {}
    for number, entry in enumerate(data.get("categories", []), 1):
        name, text = entry.get("name"), entry.get("description")
        if not isinstance(name, str) or not isinstance(text, str):
            logger.error(
                '%s: category number %d needs name = "..." and description = "..."', path, number
            )
            continue
        descriptions[name.strip()] = text.strip()
    return descriptions


def report_near_categories(settings, categories, descriptions: dict) -> None:
    """A category that is not in categories.toml but nearly spells one that is
    (a typo makes a new category silently): a warning naming the files."""
    known = sorted(descriptions)
    lowered = {name.lower(): name for name in known}
    for category, items in categories:
        if category.name in descriptions:
            continue
        near = difflib.get_close_matches(category.name.lower(), sorted(lowered), n=1, cutoff=0.75)
        if not near:
            continue  # nothing like it: a category of its own, on purpose
        files = sorted({os.path.relpath(item.source_path, settings["PATH"]) for item in items})
        logger.warning(
            "%s: category %r is not one of the site's categories (%s); did you mean %r? "
            "Fix the Category: line, or add %r to %s to keep it as a category of its own.",
            ", ".join(files[:3]) + (f" and {len(files) - 3} more" if len(files) > 3 else ""),
            category.name,
            settings["CATEGORIES_DATA"],
            lowered[near[0]],
            category.name,
            settings["CATEGORIES_DATA"],
        )


def _terms(article, settings) -> dict:
    terms = {
        ("tag", tag.slug): settings["RELATED_TAG_WEIGHT"] for tag in getattr(article, "tags", [])
    }
    for topic in getattr(article, "topics", []):
        terms[("topic", topic.slug)] = settings["RELATED_TOPIC_WEIGHT"]
    return terms


class IndexesGenerator(Generator):
    """Related items, category descriptions, question lists and robots.txt."""

    parallel_output = True  # pages go through the writer; redirects: main process only

    def generate_context(self):
        settings = self.settings
        articles = list(self.context.get("articles", []))

        terms = [_terms(a, settings) for a in articles]
        dates = [a.date.timestamp() for a in articles]
        limit, window = settings["RELATED_MAX"], settings["RELATED_WINDOW"]
        # An incremental build reuses the ranking when no item's terms or date
        # changed (stacks_offers/reuse.py).
        key = (
            reuse.digest([sorted(t.items()) for t in terms], dates, limit, window)
            if reuse.store(settings) is not None
            else None
        )
        ranked = reuse.recall(settings, "related", key) if key else reuse.MISSING
        if ranked is reuse.MISSING:
            ranked = rank_related(
                terms,
                dates,
                limit=limit,
                window=window,
                map_items=lambda rank, indexes: fork_map(
                    rank,
                    indexes,
                    jobs=default_jobs(settings),
                    what="ranking related items",
                    per_worker=500,  # a fraction of a millisecond each
                ),
            )
            if key:
                reuse.keep(settings, "related", key, ranked)
        for article, chosen in zip(articles, ranked, strict=True):
            article.related = [articles[j] for j in chosen]

        descriptions = read_category_descriptions(settings)
        known = set()
        for category, items in self.context.get("categories", []):
            category.description = descriptions.get(category.name, "")
            # Counted once here, not by every paginated page of the category.
            category.post_count = sum(1 for a in items if getattr(a, "kind", "post") == "post")
            category.thread_count = len(items) - category.post_count
            known.add(category.name)
        report_near_categories(settings, self.context.get("categories", []), descriptions)
        for name in sorted(set(descriptions) - known):
            logger.warning(
                "%s: a description for category %r, which no post or thread uses. "
                "Fix the name (known: %s) or remove the entry.",
                os.path.join(settings["PATH"], settings["CATEGORIES_DATA"]),
                name,
                ", ".join(sorted(known)),
            )

        # Every item's share image (`Image:`), drafts included: a mistake shows in `make html`.
        for key in ("articles", "drafts", "pages", "hidden_pages", "draft_pages"):
            for item in self.context.get(key) or ():
                item.share_image = share_image(item, settings)

        threads = [a for a in articles if getattr(a, "thread", None) and a.kind != "post"]
        self.question_lists = {
            "questions": sorted(threads, key=lambda a: a.date, reverse=True),
            "questions_active": sorted(threads, key=lambda a: a.thread.last_activity, reverse=True),
            "questions_unanswered": sorted(
                (a for a in threads if not a.thread.answered), key=lambda a: a.date, reverse=True
            ),
        }

    def write_redirects(self, writer) -> None:
        if not getattr(writer, "main", True):
            return  # with the parallel plugin, the main process writes these
        items = [*self.context.get("articles", []), *self.context.get("pages", [])]
        moves = old_paths(items, self.settings["SITEURL"])
        if not moves:
            return
        template = self.env.get_template("redirect.html")
        for old, target, title in moves:
            if "?" in old:
                continue  # a query string cannot be a file: the maps carry it
            relative = old.lstrip("/")
            if not relative.endswith(".html"):
                relative = relative.rstrip("/") + "/index.html"
            path = sanitised_join(self.output_path, relative)
            will_write = getattr(writer, "will_write", None)
            if (will_write and will_write(relative)) or os.path.exists(path):
                logger.warning(
                    "Not redirecting %s to %s: the new site has a page there", old, target
                )
                continue
            # Written directly, not through Pelican's writer: not a page for the sitemap.
            _write(path, template.render(self.context, title=title, target=target))
        lines = [f"{old} {target} 301" for old, target, _ in moves]
        if self.settings["REDIRECTS_NETLIFY_SAVE_AS"]:
            _write(
                os.path.join(self.output_path, self.settings["REDIRECTS_NETLIFY_SAVE_AS"]),
                "\n".join(lines) + "\n",
            )
        if self.settings["REDIRECTS_NGINX_SAVE_AS"]:
            # For nginx: map $request_uri $new { include redirects.nginx.map; }
            body = "".join(f"{old} {target};\n" for old, target, _ in moves)
            _write(os.path.join(self.output_path, self.settings["REDIRECTS_NGINX_SAVE_AS"]), body)

    def generate_output(self, writer):
        relative = self.settings["RELATIVE_URLS"]
        template = self.get_template("questions")
        for key, items in self.question_lists.items():
            title, lead = QUESTION_LISTS[key]
            writer.write_file(
                self.settings[f"{key.upper()}_SAVE_AS"],
                template,
                self.context,
                articles=items,
                dates=items,
                paginated={"articles": items, "dates": items},
                template_name="questions",
                page_name=key,
                url=self.settings[f"{key.upper()}_URL"],
                relative_urls=relative,
                list_title=title,
                list_lead=lead,
            )
        self.write_redirects(writer)
        if self.settings["ROBOTS_SAVE_AS"]:
            writer.write_file(
                self.settings["ROBOTS_SAVE_AS"],
                self.env.get_template("robots.txt"),
                self.context,
                relative_urls=False,
                url="",
            )


def resolve_share_image(value: str, content: Path, static_paths) -> tuple[str, str]:
    """An item's `Image:` as (its address, relative to the site or absolute; a
    problem, or ""). `images/x.png` (or `/images/x.png`, `{static}/images/x.png`)
    is a file under the content folder, in one of STATIC_PATHS so the build
    copies it; an http(s) URL is taken as it is."""
    value = value.strip()
    if value.startswith(("http://", "https://")):
        return (value, "") if plain_address(value) else ("", "is not a plain http(s) URL")
    relative = value.removeprefix("{static}").lstrip("/")
    if not relative or ".." in Path(relative).parts:
        return "", "is not a path inside the content folder"
    if not relative.lower().endswith(SHARE_IMAGE_TYPES):
        return "", "is not a PNG, JPEG, GIF or WebP image (social sites do not show SVG)"
    if not (content / relative).is_file():
        return "", f"names no file: there is no {content / relative}"
    if not any(relative == s or relative.startswith(s.rstrip("/") + "/") for s in static_paths):
        folders = ", ".join(static_paths) or "none"
        return "", f"is not in a folder the build copies (STATIC_PATHS: {folders})"
    return relative, ""


def share_image(item, settings) -> str:
    """The item's own share image (`Image:` metadata), checked; "" for the site's
    default. A mistake is an error naming the file, the line and the fix."""
    value = item.metadata.get("image")
    if not value:
        return ""
    address, problem = resolve_share_image(
        str(value), Path(settings["PATH"]), settings.get("STATIC_PATHS", [])
    )
    if problem:
        line = metadata_line(item.source_path, "image")
        logger.error(
            "%s: Image: %r %s. Name a PNG or JPEG under content/images/ "
            "(Image: images/my-picture.png) or a full https:// address; without Image: "
            "the page shares the site's own picture (SHARE_IMAGE).",
            f"{item.source_path}:{line}" if line else item.source_path,
            value,
            problem,
        )
        return ""
    if address.startswith(("http://", "https://")):
        return address
    # Where the build copies it: Pelican's STATIC_URL ("{path}" unless changed).
    try:
        return settings.get("STATIC_URL", "{path}").format(path=address)
    except (KeyError, IndexError, ValueError):
        return address


def old_paths(items, siteurl: str) -> list[tuple[str, str, str]]:
    """(old path with its query, new absolute URL, title) for items that moved.

    An Original-URL that is not a plain path or http(s) URL, or a new address
    with other characters (a thread's `Slug:` is the reader's), is refused with
    an error naming the file and line: it would be written into the maps."""
    moves = []
    for item in items:
        original = item.metadata.get("original-url")
        if not original:
            continue
        target = f"{siteurl}/{item.url}"
        for what, key, value in (
            ("Original-URL", "original-url", original),
            ("its address", "slug", target),
        ):
            if not plain_address(value):
                line = metadata_line(item.source_path, key)
                logger.error(
                    "%s: %s %r is not a plain path or http(s) URL, so no redirect is made "
                    "for it. Use only letters, digits and . _ ~ %% / + , : @ ! - "
                    "(percent-encode anything else).",
                    f"{item.source_path}:{line}" if line else item.source_path,
                    what,
                    value,
                )
                break
        else:
            parts = urlsplit(original)
            old = parts.path or "/"
            if parts.query:
                old = f"{old}?{parts.query}"
            if old.strip("/") in ("", item.url.strip("/")):
                continue
            moves.append((old, target, item.title))
    return sorted(set(moves))


def date_listings(generators) -> None:
    """all_generators_finalized: a listing page (home, tags, categories, archives,
    question lists) changes when an item on the site does, so its lastmod in the
    sitemap is the newest item's (its `modified`, a thread's last reply), not the
    time of the build, which claimed every listing changed on every publish."""
    newest = None
    for generator in generators:
        for key in ("articles", "pages"):
            for item in getattr(generator, key, None) or ():
                when = getattr(item, "modified", None) or getattr(item, "date", None)
                if when is not None and (newest is None or when > newest):
                    newest = when
    if newest is not None:
        compat.set_listing_lastmod(newest)


def _write(path: str, text: str) -> None:
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)


def get_generators(pelican):  # noqa: ARG001 - signal API
    return IndexesGenerator


def add_templates(generator) -> None:
    """generator_init: the plugin's default templates, after the theme's."""
    templates.add_defaults(generator, TEMPLATES)


def register() -> None:
    signals.initialized.connect(set_defaults)
    signals.article_generator_pretaxonomy.connect(mark_thread_activity)
    signals.get_generators.connect(get_generators)
    signals.generator_init.connect(add_templates)
    signals.all_generators_finalized.connect(date_listings)
