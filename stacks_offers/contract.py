"""What each plugin adds to Pelican's objects and what it reads: the one place it is written.

The plugins hand each other data only through attributes on Pelican's own
objects (posts, threads, pages, categories), set while Pelican builds its
context. A plugin that reads an attribute must run after the plugin that sets
it, and plugins run in the order of `PLUGINS` (their handlers of one signal are
called in the order they were connected, which is that order). `check_order`
stops the build at start when `PLUGINS` would have a plugin read what another
has not set yet: the site would be built wrong without a word (with `topics`
before `threads`, no thread's replies count towards its topics).

Each plugin calls `check_order` when Pelican starts (`initialized`).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Plugin:
    sets: frozenset[str]
    reads: frozenset[str] = field(default_factory=frozenset)
    when: str = ""
    # Set in some builds only (an incremental one) and read by no plugin.
    notes: frozenset[str] = field(default_factory=frozenset)


CONTRACT: dict[str, Plugin] = {
    # Spreads reading and writing over processes; sets nothing others read.
    "parallel": Plugin(
        sets=frozenset(),
        when="article_generator_init, page_generator_init (read ahead); get_writer; "
        "all_generators_finalized (fork and join around the output steps)",
    ),
    # Work Pelican repeats, done once; changes no value anyone reads.
    "speedups": Plugin(
        sets=frozenset({"article.override_url", "page.override_url"}),
        when="article_generator_finalized, all_generators_finalized",
    ),
    "threads": Plugin(
        sets=frozenset(
            {
                "article.kind",  # post | question | discussion
                "article.thread",  # the reply tree, counts, answered/solved, plain text
                "article.reply_pages",
                "article.replies_feed_url",
                "article.replies_feed_save_as",
                "article.jsonld",
                "article.original_link",
                # Emptied (and `author` taken away) on an item withdrawn with
                # `make takedown`: no byline, no author page lists it.
                "article.authors",
                # "thread" (or "page_thread") on items with replies, unless the
                # author's `Template:` named one: the theme's, else the plugin's.
                "article.template",
                "page.template",
                "page.thread",
                # Readers may reply: posts and threads unless `Comments: off`,
                # pages where `Comments: on` (or THREADS_PAGE_COMMENTS).
                "article.comments_open",
                "page.comments_open",
            }
        ),
        # Read by no plugin: an incremental build's note of what an item's page
        # is made from besides its file (its comment files): stacks_offers/reuse.py.
        notes=frozenset({"article.reuse_inputs", "page.reuse_inputs"}),
        when="article_generator_pretaxonomy, page_generator_finalized",
    ),
    "topics": Plugin(
        sets=frozenset({"article.topics", "topic.post_count", "topic.thread_count"}),
        reads=frozenset({"article.thread", "article.kind"}),  # replies count, less
        when="article_generator_pretaxonomy",
    ),
    "indexes": Plugin(
        sets=frozenset(
            {
                "article.related",
                "article.modified",  # a thread's last reply
                "category.description",
                "category.post_count",
                "category.thread_count",
            }
        ),
        reads=frozenset({"article.thread", "article.kind", "article.topics"}),
        when="article_generator_pretaxonomy (modified), its generator's context (the rest)",
    ),
    # The Ask page and question outcomes (`Outcome:` against content/outcomes.toml).
    "readers": Plugin(
        sets=frozenset({"article.outcome"}),
        reads=frozenset({"article.kind"}),
        when="article_generator_pretaxonomy (outcome), its generator (the Ask and outcomes pages)",
    ),
    # pelican-sitemap reads `modified` as each page is written: after every
    # plugin above has set it, whatever the order (listing pages get the newest
    # item's date from indexes, at all_generators_finalized).
    "pelican.plugins.sitemap": Plugin(sets=frozenset()),
}


class PluginOrderError(Exception):
    """PLUGINS is in an order that would change the site."""


def plugin_name(entry) -> str:
    """A PLUGINS entry (a name or a module) as the contract names it."""
    name = entry if isinstance(entry, str) else getattr(entry, "__name__", str(entry))
    short = name.removesuffix(".plugin")
    return short if short in CONTRACT else short.rsplit(".", 1)[-1]


def order_problems(plugins) -> list[str]:
    names = [plugin_name(entry) for entry in plugins]
    position = {name: n for n, name in reversed(list(enumerate(names)))}
    setter = {attribute: name for name, plugin in CONTRACT.items() for attribute in plugin.sets}
    problems = []
    for name in names:
        plugin = CONTRACT.get(name)
        if plugin is None:
            continue
        for attribute in sorted(plugin.reads):
            source = setter.get(attribute)
            if source in position and position[source] > position[name]:
                problems.append(
                    f"{name!r} reads {attribute}, which {source!r} sets, but comes before it"
                )
    return problems


def check_order(settings) -> None:
    """Stop with a clear message when PLUGINS is in an order that changes the site."""
    plugins = settings.get("PLUGINS") or []
    problems = order_problems(plugins)
    if problems:
        fixed = _reordered([plugin_name(entry) for entry in plugins])
        raise PluginOrderError(
            "PLUGINS is in an order that would build the site wrong: "
            + "; ".join(problems)
            + f". List them as {fixed} (see stacks_offers/contract.py)."
        )


def _reordered(names: list[str]) -> list[str]:
    """The same plugins, each after those it reads from (stable otherwise)."""
    setter = {attribute: name for name, plugin in CONTRACT.items() for attribute in plugin.sets}
    done: list[str] = []

    def place(name: str, path: tuple = ()) -> None:
        if name in done or name in path:
            return
        for attribute in sorted(CONTRACT.get(name, Plugin(frozenset())).reads):
            source = setter.get(attribute)
            if source in names:
                place(source, (*path, name))
        done.append(name)

    for name in names:
        place(name)
    return done
