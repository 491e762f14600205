"""Map a function over a list on every core, with fork().

Pelican does everything in one process; a build spends most of its time in
pure per-item work (Markdown, sanitising, topic tagging, Jinja). `fork_map`
runs `func` over `items` in `jobs` processes: the children are made with
fork(), so they see every object the parent has (nothing is sent to them), and
each sends back only its results, pickled, through a pipe. The parent does a
share itself.

What a child logs is not printed by the child: the records travel back with
its results and the parent logs them, so they reach the same handlers (the
console, and the collector of `tools/build.py`) as the parent's own.

A child that fails makes the parent raise `WorkerError` with the child's
traceback; a child dies with its parent (Linux), so a killed build leaves no
worker behind.

With one job, without fork() (Windows), or for a short list, it is a plain
loop in this process: the results are the same either way.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import logging
import os
import pickle
import signal
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import Any

try:
    from pelican.log import FilteredMessage
except ImportError:  # fork_map itself does not need Pelican

    class FilteredMessage(Exception):
        pass


MIN_ITEMS = 32  # below this, forking costs more than it saves
PER_WORKER = 16  # each process gets at least this many items (of a few ms each)


def jobs_for_items(jobs: int, count: int, per_worker: int = PER_WORKER) -> int:
    """No more processes than `count` items keep busy, each with at least
    `per_worker` of them (a small site on a big machine forks few workers, or none)."""
    if count < max(MIN_ITEMS, 2 * per_worker):
        return 1
    return max(1, min(jobs, count // per_worker))


JOBS_ENV = "BUILD_JOBS"


class WorkerError(RuntimeError):
    """A worker process failed; the message carries its traceback."""


def default_jobs(settings=None) -> int:
    """How many processes: 1 when the speed layer is off (`compat.speed_layer`),
    else the BUILD_JOBS setting when it is set (not None), else the BUILD_JOBS
    environment variable, else the cores this process may use."""
    if settings is not None:
        from stacks_offers import compat  # the speed layer may be off: then one process

        if not compat.speed_layer(settings):
            return 1
    configured = (settings or {}).get("BUILD_JOBS")
    if configured is not None:
        return max(1, int(configured))
    value = os.environ.get(JOBS_ENV, "").strip()
    if value:
        try:
            jobs = int(value)
        except ValueError:
            raise ValueError(
                f"{JOBS_ENV}={value!r}: set it to a whole number of processes (1 = no workers)"
            ) from None
        return max(1, jobs)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def can_fork() -> bool:
    return hasattr(os, "fork") and sys.platform != "win32"


class _Capture(logging.Handler):
    """Keeps a child's log records, made safe to pickle."""

    def __init__(self) -> None:
        super().__init__(level=logging.NOTSET)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(_portable(record))


def _portable(record: logging.LogRecord) -> logging.LogRecord:
    """The record with its message formatted and its traceback as text."""
    copy = logging.makeLogRecord(record.__dict__)
    copy.msg = record.getMessage()
    copy.args = None
    if record.exc_info:
        copy.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip()
    copy.exc_info = None
    return copy


def replay(records: list[logging.LogRecord]) -> None:
    """Log a child's records in this process, through the usual handlers.

    A message this process has logged already (the same warning met by two
    processes) is dropped by Pelican's logger, which says so by raising
    `FilteredMessage` from its filter: that is not an error here.
    """
    for record in records:
        logger = logging.getLogger(record.name)
        if logger.isEnabledFor(record.levelno):
            try:
                logger.handle(record)
            except FilteredMessage:
                continue


def die_with_parent() -> None:
    """Have the kernel kill this process when its parent dies (Linux only)."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass


def release_free_memory() -> None:
    """Hand the C allocator's free pages back to the system (glibc only).

    Before a fork: a free page still mapped is shared by every process, and the
    first to reuse it copies it. Text freed after use (the replies' plain text
    once topics are tagged, say) leaves tens of MiB of such pages.
    """
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):  # musl has no malloc_trim
            ctypes.CDLL(None).malloc_trim(0)


def child_start() -> _Capture:
    """In a freshly forked child: die with the parent; capture logging."""
    die_with_parent()
    # Ctrl-C goes to the whole process group: let the parent handle it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    capture = _Capture()
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.addHandler(capture)
    return capture


class _Pickler(pickle.Pickler):
    """Sends objects the parent already has (settings, say) by reference."""

    def __init__(self, file, shared: Sequence[Any]) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self._shared = {id(obj): n for n, obj in enumerate(shared)}

    def persistent_id(self, obj):
        return self._shared.get(id(obj))


class _Unpickler(pickle.Unpickler):
    def __init__(self, file, shared: Sequence[Any]) -> None:
        super().__init__(file)
        self._shared = shared

    def persistent_load(self, pid):
        return self._shared[pid]


def send(fd: int, payload: Any, shared: Sequence[Any] = ()) -> None:
    with os.fdopen(fd, "wb") as pipe:
        _Pickler(pipe, shared).dump(payload)


def receive(fd: int, shared: Sequence[Any] = ()) -> Any:
    with os.fdopen(fd, "rb") as pipe:
        return _Unpickler(pipe, shared).load()


def wait(pid: int, what: str) -> None:
    """Reap a child; raise WorkerError if it did not exit cleanly."""
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        name = signal.Signals(os.WTERMSIG(status)).name
        raise WorkerError(f"{what}: the worker process was killed by {name}")
    if os.WEXITSTATUS(status) != 0:
        raise WorkerError(f"{what}: the worker process exited with {os.WEXITSTATUS(status)}")


def start_workers(jobs: int) -> tuple[int, int | None, list[tuple[int, int]]]:
    """Fork `jobs - 1` worker processes.

    Returns, in worker k (1 .. jobs-1): (k, the write end of its pipe, []), with
    logging captured (see child_start); in the parent: (0, None, [(pid, read
    end), ...]). A worker must finish with `finish_worker`.
    """
    children: list[tuple[int, int]] = []
    # Objects made so far are never collected by a worker's garbage collector:
    # its passes would write to every object and copy the parent's memory page
    # by page (copy-on-write). The parent thaws them once the workers are done.
    gc.freeze()
    release_free_memory()
    for k in range(1, jobs):
        read_end, write_end = os.pipe()
        # Flush so a worker does not print again what the parent had buffered.
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            os.close(read_end)
            for _pid, other in children:
                os.close(other)
            child_start()
            return k, write_end, []
        os.close(write_end)
        children.append((pid, read_end))
    return 0, None, children


# Called in a worker before it reports (`at_finish`): what it still holds to
# write (the store of kept work flushes its last rows).
_AT_FINISH: list[Callable[[], None]] = []


def at_finish(step: Callable[[], None]) -> None:
    """Have every worker run `step` before it reports to the parent (once per
    step, in the order given). What it logs is reported with the worker's
    messages; an error in it is logged as a warning and the worker goes on."""
    if step not in _AT_FINISH:
        _AT_FINISH.append(step)


def finish_worker(pipe: int, status: str, value: Any, shared: Sequence[Any] = ()) -> None:
    """In a worker: send (status, value, what it logged) to the parent and exit."""
    code = 0 if status == "ok" else 1
    for step in _AT_FINISH:
        try:
            step()
        except Exception as exc:  # reported; the worker still sends its result
            logging.getLogger(__name__).warning(
                "a worker process could not finish %s: %s: %s",
                getattr(step, "__qualname__", step),
                type(exc).__name__,
                exc,
            )
    try:
        capture = next(h for h in logging.getLogger().handlers if isinstance(h, _Capture))
        send(pipe, (status, value, capture.records), shared)
    except BaseException:
        code = 1
    finally:
        os._exit(code)


def stop_workers(children: list[tuple[int, int]]) -> None:
    """Kill and reap workers whose results are no longer wanted."""
    for pid, pipe in children:
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        os.close(pipe)
    gc.unfreeze()


def collect(children: list[tuple[int, int]], what: str, shared: Sequence[Any] = ()) -> list:
    """Each worker's value, in order, after logging what it logged here.

    Raises WorkerError, with the worker's traceback where there is one, if a
    worker failed, was killed or sent nothing.
    """
    values, failure = [], None
    for pid, pipe in children:
        try:
            status, value, records = receive(pipe, shared)
        except (EOFError, pickle.UnpicklingError, OSError) as exc:
            status, value, records = "lost", f"{type(exc).__name__}: {exc}", []
        replay(records)
        values.append(value if status == "ok" else None)
        if status == "error":
            failure = failure or f"{what} failed in a worker process:\n{value}"
        try:
            wait(pid, what)
        except WorkerError as exc:
            failure = failure or str(exc)
        if status == "lost":
            failure = failure or f"{what}: a worker process sent nothing back ({value})"
    gc.unfreeze()
    if failure:
        raise WorkerError(failure)
    return values


def fork_map(
    func: Callable[[Any], Any],
    items: Sequence[Any],
    *,
    jobs: int | None = None,
    shared: Sequence[Any] = (),
    what: str = "build worker",
    per_worker: int = PER_WORKER,
) -> list[Any]:
    """[func(item) for item in items], spread over `jobs` processes.

    `shared` lists objects the results may refer to that the parent already
    has (Pelican's settings, say): they are sent by reference, not copied.
    Items are taken in chunks, in a fixed shuffled order, so that costly items
    that come in a pattern (every fourth file a long thread, say) are spread
    too, by whichever process is free next.
    Results come back in the order of `items`. Cheap items should ask for a
    larger `per_worker`, so that each worker has enough to do to pay for itself.
    """
    jobs = default_jobs() if jobs is None else max(1, jobs)
    items = list(items)
    jobs = jobs_for_items(jobs, len(items), per_worker)
    if jobs <= 1 or not can_fork():
        return [func(item) for item in items]

    # A fixed permutation (multiplicative hashing), cut into chunks that the
    # processes take in turn from a queue: whoever is free takes the next, so
    # a process that happens to be slower (page faults, a long thread) is not
    # waited for.
    order = sorted(range(len(items)), key=lambda i: (i * 0x9E3779B1) & 0xFFFFFFFF)
    count = max(1, min(len(items), jobs * CHUNKS_PER_JOB, MAX_CHUNKS))
    size = -(-len(items) // count)
    chunks = [order[start : start + size] for start in range(0, len(order), size)]
    queue = _ChunkQueue(len(chunks))
    index, pipe, children = start_workers(jobs)
    if index:
        try:
            done = [(n, [func(items[i]) for i in chunks[n]]) for n in queue]
            status, value = "ok", done
        except BaseException:
            status, value = "error", traceback.format_exc()
        finish_worker(pipe, status, value, shared)

    results: list[Any] = [None] * len(items)
    try:
        for n in queue:
            for i in chunks[n]:
                results[i] = func(items[i])
    except BaseException:
        stop_workers(children)
        raise
    finally:
        queue.close()
    for value in collect(children, what, shared):
        for n, chunk_results in value:
            for i, result in zip(chunks[n], chunk_results, strict=True):
                results[i] = result
    return results


CHUNKS_PER_JOB = 64  # small enough to even out, large enough to cost nothing
MAX_CHUNKS = 8192  # the queue is written whole before anyone reads: 32 KiB


class _ChunkQueue:
    """Chunk numbers 0 .. count-1 in a pipe, filled before the fork.

    Every process reads four bytes at a time (a read this small is atomic), so
    each chunk goes to exactly one process; the pipe is empty and closed for
    writing once all are taken, which ends every reader's loop.
    """

    def __init__(self, count: int) -> None:
        self._read, write = os.pipe()
        try:
            os.write(write, b"".join(n.to_bytes(4, "little") for n in range(count)))
        finally:
            os.close(write)

    def __iter__(self):
        while len(taken := os.read(self._read, 4)) == 4:
            yield int.from_bytes(taken, "little")

    def close(self) -> None:
        if self._read >= 0:
            os.close(self._read)
            self._read = -1
