"""Wire the topic tagger into Pelican.

* `article_generator_pretaxonomy` (after the threads plugin has attached
  replies, before Pelican builds its taxonomies): load and compile the
  vocabulary once, tag every post and thread, apply `Topics:`,
  `Topics-Exclude:` and `Autotopics: no`, and set `article.topics`.
* a generator writes `/topics/`, a paginated page per topic, and an Atom feed
  per topic.
"""

from __future__ import annotations

import copy
import json
import logging
import os
import tomllib
from pathlib import Path

from markupsafe import Markup
from pelican import signals
from pelican.generators import Generator
from pelican.urlwrappers import URLWrapper

from stacks_offers import compat, contract, reuse, templates
from stacks_offers.forkmap import default_jobs, fork_map

from .vocabulary import Vocabulary, VocabularyError, load

logger = logging.getLogger(__name__)

# Default topics.html and topic.html, for a theme without them.
TEMPLATES = Path(__file__).parent / "templates"

DEFAULTS = {
    "TOPICS_VOCABULARY": "topics.toml",  # under PATH (or an absolute path)
    "TOPIC_URL": "topics/{slug}/",
    "TOPIC_SAVE_AS": "topics/{slug}/index.html",
    "TOPICS_URL": "topics/",
    "TOPICS_SAVE_AS": "topics/index.html",
    "TOPIC_FEED_ATOM": "feeds/topics/{slug}.atom.xml",
    "TOPICS_REPORT": "",  # a path: write every item's topics and evidence as JSON
}


class Topic(URLWrapper):
    """A topic of the vocabulary; URLs come from TOPIC_URL / TOPIC_SAVE_AS."""

    def __init__(self, slug: str, name: str, description: str, settings) -> None:
        super().__init__(name, settings)
        self.slug = slug
        self.description = description


def set_defaults(pelican) -> None:
    settings = pelican.settings
    contract.check_order(settings)
    for key, value in DEFAULTS.items():
        settings.setdefault(key, value)
    paginated = dict(settings.get("PAGINATED_TEMPLATES", {}))
    paginated.setdefault("topic", None)
    settings["PAGINATED_TEMPLATES"] = paginated


def _vocabulary_path(settings) -> str:
    return os.path.join(settings["PATH"], settings["TOPICS_VOCABULARY"])


def _as_list(value) -> list[str]:
    if value is None:
        return []
    items = value if isinstance(value, list) else str(value).split(",")
    return [str(item).strip() for item in items if str(item).strip()]


def _texts(article) -> dict[str, str]:
    texts = {
        "title": article.title,
        # Not `content`: read now, before the pages are, its links to a page
        # would stay unwritten in Pelican's memo of it (compat.item_text).
        "body": Markup(compat.item_text(article)).striptags(),
    }
    if "summary" in article.metadata:
        texts["summary"] = Markup(article.metadata["summary"]).striptags()
    thread = getattr(article, "thread", None)
    if thread is not None:
        texts["replies"] = thread.text  # the visible replies' plain text
    return texts


def _manual(article, key: str, vocabulary: Vocabulary) -> list[str]:
    slugs = []
    for name in _as_list(article.metadata.get(key)):
        slug = vocabulary.lookup(name)
        if slug is None:
            logger.error(
                "%s: unknown topic %r in `%s:`. Known topics: %s (edit %s to add one)",
                article.source_path,
                name,
                key.title(),
                ", ".join(vocabulary.topics),
                vocabulary.path,
            )
            continue
        slugs.append(slug)
    return slugs


def _files_digest(vocabulary: str, model: str | None) -> str:
    """The vocabulary's and its model's files, as the store's keys read them."""
    return reuse.digest(reuse.file_digest(vocabulary), model and reuse.file_digest(model))


# A process that builds many times (the dev server, the tests) sets KEEP_LOADED:
# the vocabulary is then kept between builds, by the digest of its and its
# model's bytes. A single build lets go of it once items are tagged (21 MiB that
# the writing processes would otherwise hold too).
KEEP_LOADED = False
_LOADED: dict[str, object] = {}


def _load_vocabulary(settings):
    """The vocabulary and its model, compiled (`load`); with KEEP_LOADED, once
    per process while both files are byte for byte the same; an incremental
    build takes them from its store (stacks_offers/reuse.py; a third of a
    second against a tenth). Nothing changes a loaded vocabulary: tagging only
    reads it."""
    path = _vocabulary_path(settings)
    stored = reuse.store(settings) is not None
    if not stored and not KEEP_LOADED:
        return load(path)
    try:
        table = tomllib.loads(Path(path).read_text(encoding="utf-8")).get("model")
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        table = None  # `load` says what is wrong
    model = table.get("file") if isinstance(table, dict) else None
    model = str(Path(path).parent / model) if isinstance(model, str) else None  # as `load` names it
    key = _files_digest(path, model)
    vocabulary = _LOADED.get(key)
    if vocabulary is not None:
        return _named(vocabulary, path, model)
    if stored:
        vocabulary = reuse.recall(settings, "vocabulary", key)
        if vocabulary is reuse.MISSING:
            vocabulary = load(path)
            reuse.keep(settings, "vocabulary", key, vocabulary)
    else:
        vocabulary = load(path)
    if KEEP_LOADED:
        if len(_LOADED) >= 4:
            _LOADED.clear()
        _LOADED[key] = vocabulary
    return _named(vocabulary, path, model)


def _named(vocabulary, path: str, model: str | None):
    """`vocabulary` as `load(path)` gives it: the same bytes in another folder
    (a copy of the site) name their own files (`model`'s path) in messages."""
    if vocabulary.path == path:
        return vocabulary
    moved = copy.copy(vocabulary)
    moved.path = path
    if vocabulary.model is not None:
        moved.model = copy.copy(vocabulary.model)
        moved.model.path = model
    return moved


def tag_articles(generator) -> None:
    settings = generator.settings
    items = [
        *generator.articles,
        *generator.translations,
        *generator.drafts,
        *generator.drafts_translations,
        *generator.hidden_articles,
        *generator.hidden_translations,
    ]
    try:
        vocabulary = _load_vocabulary(settings)
    except VocabularyError as exc:
        logger.error("%s", exc)
        for article in items:
            article.topics = []
        return
    if vocabulary.model_stale:
        logger.warning(
            "%s: the topic model %s was trained with another version of this vocabulary; "
            "retrain it with `make topics-train`",
            vocabulary.path,
            vocabulary.model.path,
        )
    wrappers = {
        slug: Topic(slug, topic.name, topic.description, settings)
        for slug, topic in vocabulary.topics.items()
    }

    reporting = bool(settings["TOPICS_REPORT"])

    def auto_tag(article):
        auto = str(article.metadata.get("autotopics", "yes")).strip().lower()
        if auto in ("no", "false", "off", "0"):
            return [], {}
        chosen, evidence = vocabulary.tag(_texts(article))
        if not reporting:  # the evidence is for the report only
            return chosen, {}
        return chosen, {slug: evidence[slug] for slug in chosen}

    # An incremental build reuses the topics of an item tagged before with the
    # same vocabulary, when its texts come from the same file and replies
    # (`item_digest`: its file, and its comment files, noted by the threads
    # plugin); stacks_offers/reuse.py. (Not from the texts themselves: working
    # out every item's text is most of what tagging it costs.)
    keys: dict[int, str] = {}
    if reuse.store(settings) is not None:
        rules = _files_digest(vocabulary.path, getattr(vocabulary.model, "path", None))
        for n, article in enumerate(items):
            keys[n] = reuse.digest(rules, reporting, reuse.item_digest(article))
    found = reuse.recall_many(settings, "topics", keys.values())
    kept = {n: found.get(key, reuse.MISSING) for n, key in keys.items()}
    missing = [n for n in range(len(items)) if kept.get(n, reuse.MISSING) is reuse.MISSING]
    made = fork_map(
        reuse.keeping(settings, "topics", keys.get, lambda n: auto_tag(items[n])),
        missing,
        jobs=default_jobs(settings),
        what="tagging topics",
    )
    for n, result in zip(missing, made, strict=True):
        kept[n] = result
    tagged = [kept[n] for n in range(len(items))]
    report = []
    for article, (chosen, evidence) in zip(items, tagged, strict=True):
        added = _manual(article, "topics", vocabulary)
        removed = set(_manual(article, "topics-exclude", vocabulary))
        slugs = [s for s in [*chosen, *[a for a in added if a not in chosen]] if s not in removed]
        article.topics = [wrappers[s] for s in slugs]
        if not reporting:  # the evidence is for the report only: not kept
            continue
        report.append(
            {
                "source": os.path.relpath(article.source_path, settings["PATH"]),
                "title": article.title,
                "topics": slugs,
                "added": added,
                "excluded": sorted(removed),
                "evidence": {
                    s: {
                        "score": round(evidence[s].score, 3),
                        "hits": evidence[s].hits,
                        "count": evidence[s].hit_count,
                        **(
                            {"probability": round(evidence[s].probability, 3)}
                            if evidence[s].probability is not None
                            else {}
                        ),
                    }
                    for s in slugs
                    if s in evidence and s in chosen
                },
            }
        )
    generator.context["topic_list"] = list(wrappers.values())
    if reporting:
        Path(settings["TOPICS_REPORT"]).write_text(
            json.dumps(sorted(report, key=lambda r: r["source"]), indent=1, ensure_ascii=False),
            encoding="utf-8",
        )


class TopicsGenerator(Generator):
    """Writes /topics/, one paginated page per topic, and a feed per topic."""

    parallel_output = True  # every file goes through Pelican's writer

    def generate_context(self):
        articles = self.context.get("articles", [])
        by_topic = []
        for topic in self.context.get("topic_list", []):
            tagged = [a for a in articles if topic in getattr(a, "topics", [])]
            topic.post_count = sum(1 for a in tagged if getattr(a, "kind", "post") == "post")
            topic.thread_count = len(tagged) - topic.post_count
            by_topic.append((topic, tagged))
        self.topics = by_topic
        self._update_context(("topics",))

    def generate_output(self, writer):
        relative = self.settings["RELATIVE_URLS"]
        writer.write_file(
            self.settings["TOPICS_SAVE_AS"],
            self.get_template("topics"),
            self.context,
            relative_urls=relative,
            url=self.settings["TOPICS_URL"],
            page_name="topics",
        )
        template = self.get_template("topic")
        feed_pattern = self.settings.get("TOPIC_FEED_ATOM")
        for topic, articles in self.topics:
            writer.write_file(
                topic.save_as,
                template,
                self.context,
                topic=topic,
                articles=articles,
                dates=articles,
                paginated={"articles": articles, "dates": articles},
                template_name="topic",
                page_name=topic.page_name,
                url=topic.url,
                relative_urls=relative,
            )
            # A topic with nothing in it yet has no feed: an empty feed would carry the
            # time of the build as its date, and every build would change it.
            if feed_pattern and articles:
                writer.write_feed(
                    articles,
                    self.context,
                    feed_pattern.format(slug=topic.slug),
                    feed_title=f"{self.settings['SITENAME']}: {topic.name}",
                )


def get_generators(pelican):  # noqa: ARG001 - signal API
    return TopicsGenerator


def add_templates(generator) -> None:
    """generator_init: the plugin's default templates, after the theme's."""
    templates.add_defaults(generator, TEMPLATES)


def register() -> None:
    signals.initialized.connect(set_defaults)
    signals.article_generator_pretaxonomy.connect(tag_articles)
    signals.get_generators.connect(get_generators)
    signals.generator_init.connect(add_templates)
