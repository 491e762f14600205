"""Serve the site and rebuild it as you edit: the edited page first, then the rest.

    python tools/devserver.py [--settings pelicanconf.py] [--output output]
                              [--port 8000] [--bind 127.0.0.1] [--content DIR] [--no-serve]

`make devserver` runs this. Pelican's own `pelican -lr` rebuilds the whole site
after every save, so on a big site the page you are writing shows up only when
everything else has been rebuilt too. Here:

1. The whole site is built into OUTPUT (on every core, see plugins/parallel) and
   served at http://BIND:PORT/ by tools/serve.py, in its own process: an unknown
   address gets the site's 404 page, and open pages reload by themselves after
   each rewrite and rebuild. The search index is rebuilt after each full build.
2. The content folder, the theme and the settings file are watched. When a post
   or thread changes, or a comment on one, that item is read again and its page,
   its continuation pages and its reply feed are rewritten at once, with the
   rest of the site as the last build left it: reload the browser.
3. Then the whole site is rebuilt, so every listing, topic page, feed, related
   list and the sitemap catch up.

Any other change (a page, topics.toml, categories.toml, the theme, the settings
file) goes straight to step 3. Problems are printed after each step; the loop
goes on. Stop with Ctrl-C.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import watchfiles

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [p for p in (str(ROOT), str(ROOT / "plugins")) if p not in sys.path]

from pelican import Pelican, signals  # noqa: E402
from pelican.contents import Article  # noqa: E402
from pelican.generators import ArticlesGenerator  # noqa: E402
from pelican.log import init as init_logging  # noqa: E402
from pelican.plugins.threads.plugin import ARTICLE_LISTS as ITEM_LISTS  # noqa: E402
from pelican.plugins.topics import plugin as topics_plugin  # noqa: E402
from pelican.settings import read_settings  # noqa: E402
from pelican.utils import FileChangeFilter  # noqa: E402
from pelican.writers import Writer  # noqa: E402

from stacks_offers import compat  # noqa: E402
from stacks_offers.forkmap import die_with_parent  # noqa: E402
from tools.build import (  # noqa: E402
    build_search_index,
    checkpoint,
    forget_logged_messages,
    forget_stopped_build,
)

logger = logging.getLogger("tools.devserver")


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


class Site:
    """The settings, and the generators of the last full build."""

    def __init__(
        self,
        settings_file: Path,
        output: Path,
        content: Path | None = None,
        stamp: Path | None = None,
    ) -> None:
        self.settings_file = settings_file
        self.output = output
        self.content = content
        # Served: touched after every rewrite and build (pages in the browser
        # reload), and the search index is built after every full build.
        self.stamp = stamp
        self.generators: list = []
        self.load_settings()
        signals.all_generators_finalized.connect(self._keep, weak=False)

    def load_settings(self) -> None:
        self.settings = read_settings(
            str(self.settings_file),
            override={
                "OUTPUT_PATH": str(self.output),
                "DELETE_OUTPUT_DIRECTORY": False,
                **({"PATH": str(self.content)} if self.content else {}),
            },
        )
        self.pelican = Pelican(self.settings)

    def _keep(self, generators) -> None:
        self.generators = generators

    def build(self) -> bool:
        """Build everything; False if the build stopped."""
        forget_logged_messages()
        started = time.monotonic()
        try:
            self.pelican.run()
        except Exception as exc:
            logger.error("The build stopped: %s: %s", type(exc).__name__, exc, exc_info=exc)
            forget_stopped_build()
            return False
        say(f"Site rebuilt in {time.monotonic() - started:.1f} s")
        if self.stamp is not None:
            error, cost = build_search_index(self.output)
            say(error or cost)
            self.touch()
        return True

    def touch(self) -> None:
        """Tell the browser pages that the site changed (see tools/serve.py)."""
        if self.stamp is not None:
            self.stamp.write_text(str(time.time_ns()), encoding="ascii")

    def _generator(self, kind):
        return next((g for g in self.generators if isinstance(g, kind)), None)

    def item_source(self, changed: Path) -> str | None:
        """The post or thread a changed file belongs to (a source path), if any."""
        settings = self.settings
        root = Path(settings["PATH"]).resolve()
        try:
            relative = changed.resolve().relative_to(root)
        except ValueError:
            return None
        parts = relative.parts
        comments = settings.get("THREADS_COMMENTS_PATH", "comments")
        if len(parts) >= 3 and parts[0] == comments and changed.suffix == ".md":
            old = self._find(slug=parts[1])
            return old.source_path if old is not None else None
        if changed.suffix != ".md" or not changed.exists():
            return None
        article_roots = [Path(p).parts for p in settings["ARTICLE_PATHS"]]
        if not any(parts[: len(r)] == r for r in article_roots):
            return None
        return str(root / relative)

    def _find(self, slug: str | None = None, source: str | None = None):
        generator = self._generator(ArticlesGenerator)
        if generator is None:
            return None
        for name in ITEM_LISTS:
            for item in getattr(generator, name, []):
                if (slug and item.slug == slug) or (source and item.source_path == source):
                    return item
        return None

    def render_item(self, source: str) -> list[str]:
        """Read one post or thread again and write its own pages; return their paths."""
        articles = self._generator(ArticlesGenerator)
        if articles is None:
            return []
        settings = articles.settings
        item = articles.readers.read_file(
            base_path=articles.path,
            path=os.path.relpath(source, articles.path),
            content_class=Article,
            context=articles.context,
        )
        if not item.is_valid() or (item.status == "draft" and not settings.get("DRAFT_SAVE_AS")):
            return []
        # What the plugins do to every item before taxonomies (replies, topics,
        # activity), done to this one only, in a copy of the context.
        alone = SimpleNamespace(
            settings=settings,
            context=dict(articles.context),
            path=articles.path,
            **{name: [] for name in ITEM_LISTS},
        )
        alone.articles = [item]
        signals.article_generator_pretaxonomy.send(alone)
        old = self._find(source=source)
        if old is not None:
            # What needs every item (related items) stays as the last build made it.
            item.related = getattr(old, "related", [])
            for name in ITEM_LISTS:
                items = getattr(articles, name, [])
                if old in items:
                    items[items.index(old)] = item
        else:
            item.related = []
        writer = Writer(articles.output_path, settings=settings)
        # Not a build: the sitemap (which listens to content_written) must not
        # count these pages a second time.
        with signals.content_written.muted():
            writer.write_file(
                item.save_as,
                articles.get_template(item.template),
                articles.context,
                article=item,
                category=getattr(item, "category", None),
                override_output=hasattr(item, "override_save_as"),
                url=item.url,
                blog=True,
                relative_urls=settings["RELATIVE_URLS"],
            )
            written = [item.save_as]
            threads = next((g for g in self.generators if hasattr(g, "write_item")), None)
            if threads is not None and getattr(item, "thread", None) is not None:
                threads.write_item(writer, item)
                written += [page.save_as for page in item.reply_pages[1:]]
                written.append(item.replies_feed_save_as)
        return written


def watcher(site: Site):
    """Batches of changed paths under the content folder, the theme and the
    settings file. One watcher for the whole session: what changes while a
    build runs comes in the next batch, it is not lost."""
    settings = site.settings
    paths = [str(site.settings_file), settings.get("THEME", ""), settings.get("PATH", "")]
    existing = [os.path.abspath(p) for p in paths if p and os.path.exists(p)]
    ignore = FileChangeFilter(ignore_file_patterns=set(settings.get("IGNORE_FILES", [])))
    # yield_on_timeout: the first (empty) batch comes once the watcher is set
    # up, so "Watching" is only said when it is true.
    for changes in watchfiles.watch(
        *existing, watch_filter=ignore, rust_timeout=500, yield_on_timeout=True
    ):
        yield sorted({Path(path) for _change, path in changes})


def serve(site: Site, port: int, bind: str) -> subprocess.Popen:
    """tools/serve.py in its own process: the site's 404 page for an unknown
    address, and pages that reload when the site is built again."""
    return subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "tools" / "serve.py"),
            "-o",
            str(site.output),
            "-p",
            str(port),
            "-b",
            bind,
            "--reload-stamp",
            str(site.stamp),
        ],
        cwd=ROOT,
        preexec_fn=die_with_parent,  # no threads run yet: safe after fork
    )


def wait_until_served(server: subprocess.Popen, bind: str, port: int, limit: float = 60) -> None:
    """Return once the server process takes connections (or after `limit`
    seconds). It needs a moment to start Python and bind its port: "Serving"
    said before that sends a browser, or a test, to a port nobody listens on."""
    host = "127.0.0.1" if bind in ("", "0.0.0.0") else "::1" if bind == "::" else bind
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and server.poll() is None:
        try:
            socket.create_connection((host, port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    if server.poll() is not None:
        raise SystemExit(f"The server stopped ({server.returncode}): see its message above.")


def loop(site: Site) -> None:
    batches = watcher(site)
    next(batches)
    say(f"Watching {site.settings['PATH']} for changes (Ctrl-C to stop)")
    for changed in batches:
        if not changed:
            continue
        shown = ", ".join(str(p) for p in changed[:5]) + (" ..." if len(changed) > 5 else "")
        say(f"Changed: {shown}")
        if any(p.resolve() == site.settings_file.resolve() for p in changed):
            site.load_settings()
        else:
            sources = {site.item_source(p) for p in changed}
            # The one-page rewrite is part of the speed layer (compat.py).
            if None not in sources and compat.speed_layer(site.settings):
                for source in sorted(sources):
                    started = time.monotonic()
                    try:
                        written = site.render_item(source)
                    except Exception as exc:
                        logger.warning(
                            "Could not render %s alone (%s); rebuilding all", source, exc
                        )
                        continue
                    if written:
                        site.touch()
                        say(
                            f"Rewrote {written[0]} (+{len(written) - 1} more) in "
                            f"{time.monotonic() - started:.2f} s; rebuilding the rest"
                        )
                        checkpoint("rebuild")
        site.build()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-s", "--settings", type=Path, default=Path("pelicanconf.py"))
    parser.add_argument("-o", "--output", type=Path, default=Path("output"))
    parser.add_argument("-p", "--port", type=int, default=8000)
    parser.add_argument("-b", "--bind", default="127.0.0.1")
    parser.add_argument("--content", type=Path, help="override PATH, the content folder")
    parser.add_argument("--no-serve", action="store_true", help="only rebuild, do not serve")
    args = parser.parse_args(argv)
    init_logging(level=logging.WARNING)
    topics_plugin.KEEP_LOADED = True  # it builds again on every save
    # `kill` (and the benchmark) stop it like Ctrl-C: the server is stopped too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    content = args.content.absolute() if args.content else None
    output = args.output.absolute()
    stamp = None if args.no_serve else output.parent / f".devserver-build-{os.getpid()}"
    site = Site(args.settings.absolute(), output, content, stamp)
    site.build()
    server = None if args.no_serve else serve(site, args.port, args.bind)
    try:
        if server is not None:
            wait_until_served(server, args.bind, args.port)
            say(f"Serving {args.output}/ at http://{args.bind}:{args.port}/")
        loop(site)
    except KeyboardInterrupt:
        say("Stopped")
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
        if stamp is not None:
            stamp.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
