"""Spread Pelican's reading and writing over every core.

Pelican reads, renders and writes one file at a time. This plugin keeps its
order of steps and its output, and does the costly parts in `BUILD_JOBS`
processes (default: every core this process may use; 1 turns it off):

* reading: when a generator is made, the files it will read are dealt out to
  worker processes (`forkmap.fork_map`); each reads its share ahead with the
  project's reader (`read_ahead`) and sends back what it returned, which the
  main process hands to the same reader (`keep`). The generator then reads as
  usual, and the reader gives it what was read ahead. Messages the readers log
  come back with the results.
* writing: once every generator has its context, the build forks. Every
  process runs the generators' output steps, but a page or feed is rendered and
  written only by the process that owns its path (`PartitionedWriter.owns`, a
  fixed share of the paths by a hash; a paginated page's numbered pages each
  on its own). The others skip the template, the folder and the file; the
  main process still sends `content_written` for every page, so the sitemap,
  which listens to it, sees every page (in an incremental build, where most
  pages are linked rather than rendered, that is a good part of its work, so
  it takes a smaller share: `owner`).
  Output steps that do not go through the writer (copying static files, and
  any generator not marked `parallel_output = True`) run in the main process
  only. The workers then send back what they logged, and the main process
  finishes the build (signals, sitemap, summary) as Pelican does.

The threads and topics plugins use `fork_map` for their own per-item work
(building threads, tagging topics). A failed worker stops the build with its
traceback; a worker dies with the main process.
"""

from __future__ import annotations

import logging
import os
import traceback
import zlib

from pelican import signals
from pelican.generators import ArticlesGenerator, PagesGenerator, TemplatePagesGenerator
from pelican.utils import file_suffix

from stacks_offers import compat, reuse
from stacks_offers.forkmap import (
    can_fork,
    collect,
    default_jobs,
    finish_worker,
    fork_map,
    jobs_for_items,
    release_free_memory,
    start_workers,
    stop_workers,
)

logger = logging.getLogger(__name__)

# Pelican's generators that write only through the writer: safe to run in every
# process. Plugin generators say so with a `parallel_output = True` attribute.
PARTITIONED = (ArticlesGenerator, PagesGenerator, TemplatePagesGenerator)


def set_defaults(pelican) -> None:
    pelican.settings.setdefault("BUILD_JOBS", None)  # None: BUILD_JOBS env, else every core
    # An incremental build's store of per-item work is opened here, in the
    # main process, before any worker is forked (stacks_offers/reuse.py).
    reuse.store(pelican.settings)


def keep_templates(generator) -> None:
    """generator_init: every generator uses the templates this process has
    compiled, and an incremental build's those kept from the last build
    (`reuse.template_cache`)."""
    generator.env.bytecode_cache = reuse.template_cache(generator.settings)


def jobs_for(settings) -> int:
    return default_jobs(settings) if can_fork() else 1


# --- reading -----------------------------------------------------------------


def _read_all(generator, paths_key: str, excludes_key: str) -> None:
    """Read the generator's files in worker processes, ahead of Pelican.

    A reader that can (it has `read_ahead` and `keep`, as the threads plugin's
    does) reads each file in a worker; the main process hands the result to
    the same reader, whose `read` then returns it when Pelican asks. First, in
    an incremental build, a reader that can (`stored`) takes the readings its
    store holds of the files as they are, whatever the number of processes."""
    settings = generator.settings
    if not compat.speed_layer(settings):
        return
    jobs = jobs_for(settings)
    readers = generator.readers

    def reader_of(path: str):
        reader = readers.readers.get(file_suffix(path))
        return reader if hasattr(reader, "read_ahead") else None

    files = list(generator.get_files(settings[paths_key], exclude=settings[excludes_key]))
    # Not those an incremental build's store holds as they are: the reader
    # takes them from there, in this process, with no worker's round trip.
    by_reader: dict = {}
    for relative in files:
        reader = reader_of(relative)
        if reader is not None and hasattr(reader, "stored"):
            path = os.path.abspath(os.path.join(generator.path, relative))
            by_reader.setdefault(reader, {})[path] = relative
    for reader, paths in by_reader.items():
        stored = {paths[path] for path in reader.stored(list(paths))}
        files = [relative for relative in files if relative not in stored]
    if jobs_for_items(jobs, len(files)) <= 1:
        return

    def read_one(relative: str):
        path = os.path.abspath(os.path.join(generator.path, relative))
        reader = reader_of(path)
        if reader is None:
            return None
        try:
            ahead = reader.read_ahead(path)  # its slugs worked out here (threads plugin)
        except Exception:
            return None  # Pelican reads it again, and reports what went wrong
        return path, ahead

    results = fork_map(read_one, files, jobs=jobs, shared=[settings], what="reading content")
    for result in results:
        if result is not None:
            path, ahead = result
            reader_of(path).keep(path, ahead)


def read_articles(generator) -> None:
    _read_all(generator, "ARTICLE_PATHS", "ARTICLE_EXCLUDES")


def read_pages(generator) -> None:
    _read_all(generator, "PAGE_PATHS", "PAGE_EXCLUDES")


def forget_read(generator) -> None:
    """Every file is read: drop anything read ahead that Pelican did not ask for."""
    readers = getattr(generator, "readers", None)  # the dev server sends a stand-in
    for reader in getattr(readers, "readers", {}).values():
        if hasattr(reader, "forget_ahead"):
            reader.forget_ahead()


# --- writing -----------------------------------------------------------------


def owner(path: str, jobs: int, main_part: float | None = None) -> int:
    """Which of `jobs` processes writes `path`: a fixed share of the paths by a
    hash of the path, `main_part` of them (default: an even share) the main
    process's (number 0), the rest shared evenly by the workers."""
    slot = (zlib.crc32(path.encode("utf-8", "surrogateescape")) % 4096 + 0.5) / 4096
    main = 1 / jobs if main_part is None else main_part
    if slot < main:
        return 0
    return min(jobs - 1, 1 + int((slot - main) / (1 - main) * (jobs - 1)))


class PartitionedWriter(compat.OwningWriter):
    """Pelican's writer, writing only the paths this process owns.

    Every `trim_every` files it writes, it hands the C allocator's free pages
    back to the system. Each page rendered leaves short-lived strings of a few
    KiB that land in the holes of a fragmented heap (about 100 MiB of holes at
    10,000 items); without the trim every hole touched stays resident, and each
    writing process grows by some 70 MiB over the output step at 10,000 items.
    """

    share = (0, 1)  # (this process's number, how many processes)
    main_part = None  # the main process's share of the paths (None: an even share)
    trim_every = 250  # files; one trim costs about 5 ms at 10,000 items

    def __init__(self, output_path, settings=None):
        super().__init__(output_path, settings=settings)
        self.asked: set[str] = set()  # every path any process writes, by name
        self.written = 0  # files this process has written
        self._owned: dict[str, bool] = {}  # this process's answers, by path
        self.reuse: Reuse | None = None  # an incremental build's pages (`Reuse`)

    @property
    def main(self) -> bool:
        """True in the main process (the one that finishes the build)."""
        return self.share[0] == 0

    def owns(self, name: str) -> bool:
        """Whether this process writes `name` (a path under the output folder):
        each process owns a fixed share of the paths, by a hash of the path.
        (A table in shared memory where the first process to come to a path
        claimed it was tried, and measured no faster: bench/results.md.)"""
        index, jobs = self.share
        if jobs == 1:
            return True
        path = os.path.normpath(name)
        owned = self._owned.get(path)
        if owned is None:
            owned = owner(path, jobs, self.main_part) == index
            self._owned[path] = owned
        return owned

    def will_write(self, name: str) -> bool:
        """Whether some process of this build has written or is writing `name`."""
        return os.path.normpath(name) in self.asked

    def write_file(
        self,
        name,
        template,
        context,
        relative_urls=False,
        paginated=None,
        template_name=None,
        override_output=False,
        url=None,
        **kwargs,
    ):
        if template is None or not name or (self.share[1] == 1 and self.reuse is None):
            return super().write_file(
                name,
                template,
                context,
                relative_urls,
                paginated,
                template_name,
                override_output,
                url,
                **kwargs,
            )
        if compat.paginates(self.settings, paginated, template_name, kwargs):
            # Each numbered page is decided on its own (their items differ).
            pages = compat.numbered_pages(
                self.settings, name, url, paginated, template_name, kwargs
            )
            for page_name, page_kwargs in pages:
                self._write_page(
                    page_name, template, context, relative_urls, override_output, page_kwargs
                )
            return None
        return self._write_page(name, template, context, relative_urls, override_output, kwargs)

    def _write_page(self, name, template, context, relative_urls, override_output, kwargs):
        """One page (a single page, or one of a paginated page's pages)."""
        if self.share[1] > 1 and not self.owns(name):
            self._skip(name, context, relative_urls, kwargs)
            return None
        if self.reuse is not None and self.reuse.reusable(name):
            # Unchanged since the last build: its file is linked in, and
            # nothing else of Pelican's writing is done for it.
            self.reuse.link(name, self.output_path)
            self._skip(name, context, relative_urls, kwargs)
            return None
        if self.reuse is not None:
            template = _RecordedTemplate(template, self.reuse)
        return super().write_file(
            name, template, context, relative_urls, {}, None, override_output, None, **kwargs
        )

    def _skip(self, name, context, relative_urls, kwargs) -> None:
        """A page this process does not render: no template, no folder, no
        file. In the main process, `content_written` still goes out (with the
        context Pelican's writer would give it), for the sitemap and any plugin
        counting pages; a worker's listeners would see only some pages, and
        only the main process finishes the build."""
        self.asked.add(os.path.normpath(name))
        if self.main:
            compat.send_written(self.output_path, name, context, relative_urls, kwargs)

    def write_feed(self, elements, context, path=None, *args, **kwargs):
        if path:
            self.asked.add(os.path.normpath(path))
            if not self.owns(path):
                return None
        return super().write_feed(elements, context, path, *args, **kwargs)

    def reuse_file(self, name: str, items) -> bool:
        """For a file a plugin writes itself (not through `write_file`), made
        from `items` (posts, threads, pages) alone: True when the previous
        build's file was put in its place (write nothing), False when it is
        to be written (and is recorded as made from `items`)."""
        plan = self.reuse
        if plan is None:
            return False
        path = os.path.normpath(name)
        if plan.reusable(path):
            plan.link(path, self.output_path)
            return True
        plan.pages.record(path, [item.source_path for item in items])
        return False

    def opened(self, name: str) -> bool:
        self.asked.add(name)
        if not self.owns(name):
            return False
        if self.reuse is not None:
            self.reuse.unlink(name, self.output_path)  # never write through a link
        reuse.clear_empty_folder(os.path.join(self.output_path, name))  # a scaffold's
        self.written += 1
        if self.written % self.trim_every == 0:
            release_free_memory()
        return True


class _RecordedTemplate:
    """A page's template, noting what the page reads of which items while it
    renders (the next build reuses the page while those stay the same)."""

    def __init__(self, template, plan: Reuse) -> None:
        self._template = template
        self._plan = plan
        self.name = getattr(template, "name", None)

    def render(self, context):
        reuse.watch(self._template.environment)
        with reuse.Reads.of_one_page() as read:
            for key in ("article", "page"):  # the page's own item, whatever it reads
                reuse._note(context.get(key))
            html = self._template.render(context)
        self._plan.pages.record(context.get("output_file", ""), read)
        return html

    def __getattr__(self, attribute):
        return getattr(self._template, attribute)


class Reuse:
    """An incremental build's pages: which to take from the previous build.

    Made in the main process before the fork (`_Fork`), so every process
    decides alike; each records the pages it renders or reuses, and the
    workers send their records back (`_State.finish`)."""

    def __init__(self, plan: dict, context: dict, settings) -> None:
        items = reuse.all_items(context)
        comments = settings.get("THREADS_COMMENTS_PATH")
        skip = {item.source_path for item in items}
        if comments:
            folder = os.path.join(settings["PATH"], comments)
            for root, _dirs, files in os.walk(folder):
                skip.update(os.path.join(root, f) for f in files)
        self.structure = reuse.structure(context, settings, skip)
        digests = {item.source_path: reuse.item_digest(item) for item in items}
        self.pages = reuse.Pages(self.structure, digests, {i.source_path: i for i in items})
        before = reuse.load_pages(plan.get("previous_pages"))
        same = before.get("structure") == self.structure
        self.previous: dict = before.get("records", {}) if same else {}
        self.previous_parts: dict = before.get("parts", {}) if same else {}
        self.pages.prepare(self.previous_parts)
        self.previous_folder = plan.get("previous")
        self.save_to = plan.get("pages")
        self.linked: set[str] = set()  # linked in from the previous build
        self.reused = 0

    def reusable(self, name: str) -> bool:
        path = os.path.normpath(name)
        pages = self.pages
        if not self.previous_folder or not pages.reusable(path, self.previous, self.previous_parts):
            return False
        if not os.path.isfile(os.path.join(self.previous_folder, path)):
            return False
        self.pages.records[path] = self.previous[path]
        return True

    def link(self, name: str, output_path: str) -> None:
        """A page `reusable` just found unchanged is linked from the previous
        build (a hard link; a copy across devices) in place of rendering it,
        its folder made if need be."""
        path = os.path.normpath(name)
        source = os.path.join(self.previous_folder, path)
        target = os.path.join(output_path, path)
        try:
            reuse.link_or_copy(source, target)
        except FileNotFoundError:  # its folder is not made yet
            os.makedirs(os.path.dirname(target), exist_ok=True)
            reuse.link_or_copy(source, target)
        self.linked.add(path)
        self.reused += 1

    def unlink(self, name: str, output_path: str) -> None:
        """Before a file this build linked in is written after all (a second
        step writing the same path): it is written anew, never through the
        link into the last build's file."""
        path = os.path.normpath(name)
        if path in self.linked:
            self.linked.discard(path)
            os.remove(os.path.join(output_path, path))

    def save(self, workers: list[tuple[dict, int]]) -> None:
        """Every process's records, kept for the next build (main process)."""
        reused = self.reused
        for records, count in workers:
            self.pages.records.update(records)
            reused += count
        if self.save_to:
            reuse.save_pages(self.save_to, self.pages, reused)


def get_writer(pelican):
    return PartitionedWriter if compat.speed_layer(pelican.settings) else None


class _Fork:
    """First output step: start the worker processes."""

    def __init__(self, state: _State) -> None:
        self.state = state

    def generate_output(self, writer) -> None:
        state = self.state
        # A file an item `{attach}`es is moved where its pages link it, here,
        # whichever process writes them and whether or not they are rendered.
        compat.attach_linked_files(reuse.all_items(state.context))
        plan = state.settings.get(reuse.REUSE_SETTING)
        if plan and isinstance(writer, PartitionedWriter):
            writer.reuse = Reuse(plan, state.context, state.settings)
            state.writer = writer
        # Most files written are an item's page or are listings of items.
        items = sum(len(getattr(g, "articles", None) or ()) for g in state._steps())
        items += sum(len(getattr(g, "pages", None) or ()) for g in state._steps())
        jobs = jobs_for_items(jobs_for(state.settings), items)
        if jobs <= 1 or not isinstance(writer, PartitionedWriter):
            return
        if writer.reuse is not None and writer.reuse.previous:
            # Most pages are linked from the last build, not rendered: the main
            # process also sends `content_written` for every page it skips
            # (about as costly as linking one), so it takes a smaller share.
            writer.main_part = 1 / (jobs + 1)
        else:
            # Every page is rendered, and each process then holds its own copy
            # of every item's text (compat S9): kept compressed until written.
            compat.pack_contents(reuse.all_items(state.context))
        index, pipe, state.children = start_workers(jobs)
        writer.share = (index, jobs)
        if index:
            state.become_worker(pipe)  # and go on with the output steps
        else:
            state.wrap_main(writer)


class _Join:
    """Last output step: a worker reports and exits; the main process waits."""

    def __init__(self, state: _State) -> None:
        self.state = state

    def generate_output(self, writer) -> None:  # noqa: ARG002 - generator API
        self.state.finish()


def _partitioned(generator) -> bool:
    return isinstance(generator, PARTITIONED) or getattr(generator, "parallel_output", False)


class _State:
    def __init__(self, settings, generators) -> None:
        self.settings = settings
        self.generators = generators
        self.context = generators[0].context  # the context every generator shares
        self.writer: PartitionedWriter | None = None  # set when pages may be reused
        self.children: list[tuple[int, int]] = []
        self.pipe: int | None = None  # in a worker: where its report goes

    def _steps(self):
        return [g for g in self.generators if not isinstance(g, _Fork | _Join)]

    def become_worker(self, pipe: int) -> None:
        """In a worker: run only the steps that respect the partition, and
        never let an error escape into Pelican (the main process reports it)."""
        self.pipe = pipe
        for generator in self._steps():
            if _partitioned(generator):
                generator.generate_output = self._guarded(generator.generate_output)
            else:
                generator.generate_output = _skip

    def _guarded(self, step):
        def run(writer):
            try:
                step(writer)
            except BaseException:
                finish_worker(self.pipe, "error", traceback.format_exc())

        return run

    def wrap_main(self, writer: PartitionedWriter) -> None:
        """In the main process, steps that ignore the partition own every path,
        and a step that fails stops the workers before the error goes on."""
        for generator in self._steps():
            step = generator.generate_output
            if not _partitioned(generator):
                step = _owning_all(step, writer)
            generator.generate_output = self._stopping_workers_on_error(step)

    def _stopping_workers_on_error(self, step):
        def run(writer):
            try:
                step(writer)
            except BaseException:
                children, self.children = self.children, []
                stop_workers(children)
                raise

        return run

    def finish(self) -> None:
        plan = self.writer.reuse if self.writer is not None else None
        if self.pipe is not None:
            finish_worker(self.pipe, "ok", (plan.pages.records, plan.reused) if plan else None)
        children, self.children = self.children, []
        reports = collect(children, "writing the site")
        if plan is not None:
            plan.save([r for r in reports if r])


def _skip(writer) -> None:  # noqa: ARG001 - generator API
    return None


def _owning_all(step, writer: PartitionedWriter):
    def run(writer_):
        share, writer.share = writer.share, (0, 1)
        try:
            step(writer_)
        finally:
            writer.share = share

    return run


def add_steps(generators: list) -> None:
    """all_generators_finalized: bracket the output steps with fork and join."""
    if not generators or not compat.speed_layer(generators[0].settings):
        return
    # O1: Pelican runs the output steps of this very list, in its order.
    state = _State(generators[0].settings, generators)
    generators.insert(0, _Fork(state))
    generators.append(_Join(state))


def register() -> None:
    signals.initialized.connect(set_defaults)
    signals.generator_init.connect(keep_templates)
    signals.article_generator_init.connect(read_articles)
    signals.page_generator_init.connect(read_pages)
    signals.article_generator_pretaxonomy.connect(forget_read)
    signals.page_generator_finalized.connect(forget_read)
    signals.get_writer.connect(get_writer)
    signals.all_generators_finalized.connect(add_steps)
