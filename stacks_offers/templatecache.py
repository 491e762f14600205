"""Templates compiled once per process, for every generator and build in it.

Pelican gives each generator a Jinja environment of its own, and a plain Jinja
environment compiles a template on first use: a build compiled the theme's
templates once per generator (82 compilations of 25-odd templates for the demo
site, about half of a small build's time), and a process that builds several
sites (the test suite, the dev server) compiled them all again for each.

`TemplateCache` is a Jinja bytecode cache (Jinja's documented
`Environment.bytecode_cache` hook) kept in memory for the process, in front of
the disk cache an incremental build keeps beside its store (`disk`). Jinja
itself checks the template's source: a cached compilation is used only while
the source is the same. The compiled code also depends on the environment
(its syntax and whitespace options, extensions, `finalize`, autoescaping, and
the filters and tests it has: the compiler calls a filter on constant arguments
at compile time, and writes how each filter is called), so the memory cache
finds a template by all of those too (`fingerprint`): an environment with
another filter, or a filter of the same name that is another function, or the
same function closing over other values (a reply address from other
settings), compiles its own.
"""

from __future__ import annotations

import functools
import sys
from types import FunctionType, ModuleType
from typing import Any

import jinja2
from jinja2.bccache import Bucket, BytecodeCache
from jinja2.defaults import DEFAULT_FILTERS, DEFAULT_TESTS

try:  # how Jinja marks what a filter is handed (a private name of Jinja 3.1; without it,
    # every filter is told apart by `_same`, which only compiles more often)
    from jinja2.utils import _PassArg

    _CONTEXT = _PassArg.context
except ImportError:
    _CONTEXT = None

# (fingerprint, name, filename) -> (source checksum, code)
_COMPILED: dict[tuple, tuple[str, Any]] = {}
_MOST = 2048  # a bound for a long-lived process that builds many different themes

# What an environment holds that Jinja reads only while rendering, or that
# `fingerprint` takes in its own way; everything else it holds (its syntax and
# whitespace options, what an extension set on it, such as i18n's
# `newstyle_gettext`) is part of the key.
_NOT_COMPILED = {
    "globals",
    "loader",
    "cache",
    "bytecode_cache",
    "auto_reload",
    "undefined",
    "shared",
    "linked_to",
    "overlayed",
    "filters",
    "tests",
    "extensions",
    "autoescape",
}


def _same(value, depth: int = 0) -> Any:
    """A hashable stand-in for `value` that is equal for values that behave the
    same: a function by its module's file, name, code, defaults and the values
    it closes over (a settings file read again defines equal functions); a
    partial by its function and arguments; an instance of a class without an
    equality of its own by its class and attributes (Pelican gives each
    generator a `strftime` filter object of its own); containers by what they
    hold; anything else by itself, as is anything nested deeper than a few levels."""
    if depth > 4:
        return _Itself(value)
    depth += 1
    if isinstance(value, FunctionType):
        try:
            closure = tuple(_same(cell.cell_contents, depth) for cell in value.__closure__ or ())
            return (
                "function",
                value.__globals__.get("__file__"),
                value.__qualname__,
                value.__code__,
                _same(value.__defaults__, depth),
                _same(value.__kwdefaults__, depth),
                closure,
                _passes(value),
            )
        except (TypeError, ValueError):  # an unhashable default, an empty cell
            return ("object", value)
    if isinstance(value, functools.partial):
        return (
            "partial",
            _same(value.func, depth),
            _same(value.args, depth),
            _same(value.keywords, depth),
        )
    if isinstance(value, (tuple, list)):
        return (type(value).__name__, *(_same(v, depth) for v in value))
    if isinstance(value, dict):
        return ("dict", *sorted(((k, _same(v, depth)) for k, v in value.items()), key=_first))
    if (
        type(value).__eq__ is object.__eq__
        and hasattr(value, "__dict__")
        and not isinstance(value, type | ModuleType)
    ):  # an instance: by its class and state
        return ("instance", type(value), _same(vars(value), depth))
    try:
        hash(value)
    except TypeError:
        return _Itself(value)
    return value


def _passes(function):
    return getattr(function, "jinja_pass_arg", None)


def _first(pair) -> str:
    return repr(pair[0])


class _Itself:
    """Equal only to the same object (kept, so its id is never another's)."""

    __slots__ = ("value",)

    def __init__(self, value) -> None:
        self.value = value

    def __eq__(self, other) -> bool:
        return isinstance(other, _Itself) and other.value is self.value

    def __hash__(self) -> int:
        return id(self.value)


def _callables(table: dict, builtin: dict) -> tuple:
    # Jinja's own filters and tests are themselves (the same in every
    # environment of the process). A context-passing filter is never called at
    # compile time: only how it is called is in the compiled code.
    found = []
    for name, function in sorted(table.items()):
        if function is builtin.get(name):
            found.append(name)
        elif _CONTEXT is not None and _passes(function) is _CONTEXT:
            found.append((name, "context"))
        else:
            found.append((name, _same(function)))
    return tuple(found)


def fingerprint(environment: jinja2.Environment, name: str) -> tuple:
    """Everything of `environment` that Jinja's compiler reads when it compiles
    the template `name`."""
    autoescape = environment.autoescape
    return (
        jinja2.__version__,
        sys.version_info[:2],
        tuple(
            (key, _same(value))
            for key, value in sorted(vars(environment).items())
            if key not in _NOT_COMPILED
        ),
        autoescape(name) if callable(autoescape) else autoescape,
        tuple((k, type(environment.extensions[k])) for k in sorted(environment.extensions)),
        environment.code_generator_class,
        _callables(environment.filters, DEFAULT_FILTERS),
        _callables(environment.tests, DEFAULT_TESTS),
    )


class TemplateCache(BytecodeCache):
    """The process's compiled templates, then `disk` (a Jinja bytecode cache or None)."""

    def __init__(self, disk: BytecodeCache | None = None) -> None:
        self.disk = disk

    def get_bucket(self, environment, name, filename, source) -> Bucket:
        key = (fingerprint(environment, name), name, filename)
        checksum = self.get_source_checksum(source)
        kept = _COMPILED.get(key)
        if kept is not None and kept[0] == checksum:
            bucket = Bucket(environment, name, checksum)
            bucket.code = kept[1]
            return bucket
        if self.disk is not None:
            bucket = self.disk.get_bucket(environment, name, filename, source)
        else:
            bucket = Bucket(environment, name, checksum)
        bucket.memory_key = key
        if bucket.code is not None:  # compiled by an earlier process
            _keep(key, bucket)
        return bucket

    def set_bucket(self, bucket: Bucket) -> None:
        _keep(bucket.memory_key, bucket)
        if self.disk is not None:
            self.disk.set_bucket(bucket)

    def load_bytecode(self, bucket: Bucket) -> None:  # get_bucket does the work
        pass

    def dump_bytecode(self, bucket: Bucket) -> None:  # set_bucket does the work
        pass


def _keep(key: tuple, bucket: Bucket) -> None:
    if len(_COMPILED) >= _MOST:
        _COMPILED.clear()
    _COMPILED[key] = (bucket.checksum, bucket.code)
