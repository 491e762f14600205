"""Progress on a terminal for long work: the phase, a count and the time spent.

A build, an import or a benchmark can run for a minute and, before this, said
nothing until the end. `Progress` shows one line per phase ("Writing pages
4,210", "Search index (Pagefind) 12 s") while the work runs, through `rich`
(which Pelican already depends on), and keeps each finished phase on screen
with its count and time.

It is silent, and costs nothing, when its stream is not a terminal (CI, `make
test`, a pipe, a log file), when TERM is "dumb", or when NO_PROGRESS is set:
those get only the usual summary lines.

Safe with the speed layer's forked workers: nothing here runs on a thread (the
display is redrawn by the calls that advance it, at most ten times a second),
so no lock can be held across a fork, and a forked child puts the streams back
and never draws.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TextIO, TypeVar

T = TypeVar("T")

REDRAW_EVERY = 0.1  # seconds


def on_terminal(stream: TextIO) -> bool:
    """Whether progress should be drawn on `stream`."""
    if os.environ.get("NO_PROGRESS") or os.environ.get("TERM") == "dumb":
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # closed or not a real stream
        return False


class Phase:
    """One line of progress: advance it as work is done."""

    def __init__(self, progress: Progress, task: int | None) -> None:
        self._progress = progress
        self._task = task
        self.count = 0

    def advance(self, by: int = 1) -> None:
        self.count += by
        self._progress._advance(self._task, by)


class Progress:
    """Phases of long work, drawn on a terminal; nothing anywhere else.

    with Progress() as progress:
        with progress.phase("Reading") as reading:
            for item in items:
                reading.advance()
        for item in progress.track(items, "Writing"):
            ...
    """

    def __init__(self, stream: TextIO | None = None, enabled: bool | None = None) -> None:
        stream = stream if stream is not None else sys.stderr
        self.enabled = on_terminal(stream) if enabled is None else enabled
        self._pid = os.getpid()
        self._bar = None
        self._drawn = 0.0
        if self.enabled:
            from rich.console import Console
            from rich.progress import (
                Progress as RichProgress,
            )
            from rich.progress import (
                SpinnerColumn,
                TextColumn,
                TimeElapsedColumn,
            )

            self._bar = RichProgress(
                SpinnerColumn(finished_text="[green]✓"),
                TextColumn("{task.description}"),
                TextColumn("[cyan]{task.fields[shown]}"),
                TimeElapsedColumn(),
                console=Console(file=stream),
                auto_refresh=False,  # no drawing thread: see the module's docstring
                redirect_stdout=True,
                redirect_stderr=True,
            )

    # -- the display ----------------------------------------------------------

    def _mine(self) -> bool:
        return self._bar is not None and os.getpid() == self._pid

    def __enter__(self) -> Progress:
        if self._mine():
            real = sys.stdout, sys.stderr
            self._bar.start()

            def in_child() -> None:  # a forked worker writes where the parent did
                sys.stdout, sys.stderr = real

            os.register_at_fork(after_in_child=in_child)
        return self

    def __exit__(self, *exc) -> None:
        if self._mine():
            self._bar.refresh()
            self._bar.stop()
            self._bar = None  # once stopped, it stays stopped (register_at_fork cannot be undone)

    def _redraw(self, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._drawn >= REDRAW_EVERY:
            self._drawn = now
            self._bar.refresh()

    def _advance(self, task: int | None, by: int) -> None:
        if task is None or not self._mine():
            return
        shown = self._bar.tasks[task].completed + by
        total = self._bar.tasks[task].total
        text = f"{shown:,}" + (f" of {total:,}" if total else "")
        self._bar.update(task, advance=by, shown=text)
        self._redraw()

    def tick(self) -> None:
        """Redraw (the spinner and the time) while waiting on something else."""
        if self._mine():
            self._redraw()

    # -- phases ---------------------------------------------------------------

    @contextmanager
    def phase(self, description: str, total: int | None = None) -> Iterator[Phase]:
        """A phase of the work, shown from its start to its end."""
        task = None
        if self._mine():
            task = self._bar.add_task(description, total=total, shown="")
            self._redraw(force=True)
        phase = Phase(self, task)
        try:
            yield phase
        finally:
            if task is not None and self._mine():
                # Finished: the spinner becomes a tick, the clock stops.
                self._bar.update(task, total=max(phase.count, 1), completed=max(phase.count, 1))
                self._bar.stop_task(task)
                self._redraw(force=True)

    def track(self, items: Iterable[T], description: str, total: int | None = None) -> Iterator[T]:
        """Iterate over `items`, counting them in a phase of their own."""
        if total is None and hasattr(items, "__len__"):
            total = len(items)  # type: ignore[arg-type]
        with self.phase(description, total) as phase:
            for item in items:
                yield item
                phase.advance()
