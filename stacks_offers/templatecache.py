"""Templates compiled once per process, for every generator and build in it.

Pelican gives each generator a Jinja environment of its own, and a plain Jinja
environment compiles a template on first use: a build compiled the theme's
templates once per generator (82 compilations of about 40 templates for the
demo site, about half of a small build's time), and a process that builds
several sites (the test suite, the dev server) compiled them all again for each.

`TemplateCache` is a Jinja bytecode cache (Jinja's `Environment.bytecode_cache`
hook) kept in memory for the process, in front of the disk cache an incremental
build keeps beside its store (`disk`). A compiled template is used again only
for the same source (Jinja's own check) and an environment that compiles it
the same way (`fingerprint`): the same Jinja, Python and environment class, the
same options and whatever an extension set on the environment, the same
autoescaping for that name, the same extensions, and filters and tests of the
same names handed the same things. Which function a filter is does not matter,
since `TemplateCache` compiles with every filter and test that is not Jinja's
own, and `finalize`, replaced by one that refuses to run: Jinja calls a filter
on constant arguments while it compiles (`{{ "x" | f }}` is folded into the
code), and with these it leaves every such call to the page's rendering, when
the environment's own filter runs. Jinja's own filters and tests, the same in
every environment, are still folded.

An environment holding anything the key cannot write down as plain values (a
bound method an extension put there) is not cached at all: Jinja compiles its
templates as it would without this module. The one exception is a wrapper
marked `returns_what_it_wraps`: the incremental build's watch of what a page
reads (`reuse.watch`) wraps the environment's getattr and getitem and Jinja's
own filters and tests, and such an environment compiles, and is keyed, as one
holding what they wrap. (Without it, every build that reuses work compiled
every template once per generator, and kept on disk only those compiled before
its first page.) The mark is kept in this module, not on the function, which
`functools.wraps` would copy onto a later wrapper that returns something else.
"""

from __future__ import annotations

import hashlib
import weakref

import jinja2
from jinja2.bccache import Bucket, BytecodeCache
from jinja2.defaults import DEFAULT_FILTERS, DEFAULT_TESTS

# (fingerprint, name, filename) -> (source checksum, code)
_COMPILED: dict[tuple, tuple[str, object]] = {}
_MOST = 2048  # a bound for a long-lived process that builds many different themes

# What an environment holds that Jinja reads only while rendering, or that
# `fingerprint` takes in its own way; everything else it holds (its syntax and
# whitespace options, policies, what an extension set on it, such as i18n's
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
    "finalize",
}


class _NotPlain(Exception):
    """A value the key cannot write down."""


class _NotWhileCompiling(Exception):
    """Raised by the stand-in of a filter asked to run while compiling."""


def _plain(value):
    """`value` as plain data whose text is the same in every process; a type is
    part of it (1, 1.0 and True differ)."""
    if value is None or isinstance(value, str | int | float | bool):
        return (type(value).__name__, value)
    if isinstance(value, tuple | list):
        return (type(value).__name__, *map(_plain, value))
    if isinstance(value, dict):
        return ("dict", *sorted((repr(_plain(k)), _plain(v)) for k, v in value.items()))
    if isinstance(value, type):
        return ("type", value.__module__, value.__qualname__)
    raise _NotPlain(type(value).__name__)


def _passes(function) -> str:
    """What Jinja hands the function (`pass_context` and the like), as text."""
    return repr(getattr(function, "jinja_pass_arg", None))


# wrapper -> what it wraps, for the wrappers marked `returns_what_it_wraps`:
# kept here, by the function itself, not as an attribute of it, which
# `functools.wraps` would copy onto any later wrapper, whatever that returns.
_WRAPS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _unwrapped(function):
    """The function under any wrappers marked `returns_what_it_wraps`."""
    while True:
        try:
            function = _WRAPS[function]
        except (KeyError, TypeError):  # not marked, or not something a weak key can be
            return function


def _jinjas_own(function, name: str, builtin: dict):
    """Jinja's own filter or test `name`, when `function` is it or only wraps
    it (`returns_what_it_wraps`); else None."""
    own = builtin.get(name)
    return own if own is not None and _unwrapped(function) is own else None


def _callables(table: dict, builtin: dict) -> tuple:
    return tuple(
        name if _jinjas_own(function, name, builtin) else (name, _passes(function))
        for name, function in sorted(table.items())
    )


def fingerprint(environment: jinja2.Environment, name: str) -> str | None:
    """A digest of everything of `environment` that compiling the template `name`
    reads, when the non-builtin filters are the refusing stand-ins (`_compile`);
    None when the environment holds something it cannot write down."""
    autoescape = environment.autoescape
    try:
        parts = (
            jinja2.__version__,
            _plain(type(environment)),
            _plain(environment.code_generator_class),
            tuple((key, _plain(value)) for key, value in sorted(_compiled_state(environment))),
            _plain(autoescape(name) if callable(autoescape) else autoescape),
            None if environment.finalize is None else _passes(environment.finalize),
            tuple(
                (
                    key,
                    _plain(type(extension)),
                    _plain({k: v for k, v in vars(extension).items() if k != "environment"}),
                )
                for key, extension in sorted(environment.extensions.items())
            ),
            _callables(environment.filters, DEFAULT_FILTERS),
            _callables(environment.tests, DEFAULT_TESTS),
        )
    except _NotPlain:
        return None
    return hashlib.blake2b(repr(parts).encode(), digest_size=16).hexdigest()


def returns_what_it_wraps(wrapper, wrapped):
    """Mark `wrapper` (an environment's `getattr` or `getitem`, a filter or a
    test) as returning whatever `wrapped` returns for the same arguments; it may
    note what it was asked, as `reuse.watch`'s do. Jinja's optimizer calls these
    on constants while it compiles, so an environment holding such wrappers of
    Jinja's own compiles as one holding Jinja's own (with them), and shares
    its compilation."""
    _WRAPS[wrapper] = wrapped
    return wrapper


def _compiled_state(environment: jinja2.Environment) -> list[tuple[str, object]]:
    """What the environment holds that compiling reads (less what `fingerprint`
    takes in its own way). A `getattr` or `getitem` that only wraps the class's
    own (`returns_what_it_wraps`) is left out, as the class's own is; any other
    stays, and (a function) makes the environment one that is not cached."""
    state = {k: v for k, v in vars(environment).items() if k not in _NOT_COMPILED}
    for name in ("getattr", "getitem"):
        if name not in state:
            continue
        value = _unwrapped(state[name])
        own = getattr(type(environment), name, None)
        bound = getattr(value, "__self__", None) is environment
        if bound and getattr(value, "__func__", None) is own:
            del state[name]
    return list(state.items())


def _refusing(function):
    def not_while_compiling(*_args, **_kwargs):
        raise _NotWhileCompiling

    if hasattr(function, "jinja_pass_arg"):
        not_while_compiling.jinja_pass_arg = function.jinja_pass_arg
    return not_while_compiling


def _compile(environment: jinja2.Environment, source: str, name, filename):
    """Jinja's code for the template, compiled with every filter, test and
    `finalize` that is not Jinja's own refusing to run: what a call of them on
    constants gives is worked out when the page is rendered, by the
    environment's own."""
    compiling = environment.overlay()
    compiling.filters = {
        n: _jinjas_own(f, n, DEFAULT_FILTERS) or _refusing(f)
        for n, f in environment.filters.items()
    }
    compiling.tests = {
        n: _jinjas_own(f, n, DEFAULT_TESTS) or _refusing(f) for n, f in environment.tests.items()
    }
    if environment.finalize is not None:
        compiling.finalize = _refusing(environment.finalize)
    return compiling.compile(source, name, filename)


class TemplateCache(BytecodeCache):
    """The process's compiled templates, then `disk` (a Jinja bytecode cache
    kept on disk, or None): both found by `fingerprint` as well as by name."""

    def __init__(self, disk: BytecodeCache | None = None) -> None:
        self.disk = disk

    def get_bucket(self, environment, name, filename, source) -> Bucket:
        checksum = self.get_source_checksum(source)
        found = fingerprint(environment, name)
        bucket = Bucket(environment, name, checksum)
        if found is None:  # not cached: Jinja compiles it
            return bucket
        key = (found, name, filename)
        kept = _COMPILED.get(key)
        if kept is not None and kept[0] == checksum:
            bucket.code = kept[1]
            return bucket
        if self.disk is not None:
            bucket.key = hashlib.sha1(repr(key).encode(), usedforsecurity=False).hexdigest()
            self.disk.load_bytecode(bucket)
        if bucket.code is None:
            bucket.code = _compile(environment, source, name, filename)
            if self.disk is not None:
                self.disk.dump_bytecode(bucket)
        _keep(key, checksum, bucket.code)
        return bucket

    def set_bucket(self, bucket: Bucket) -> None:
        pass  # get_bucket has compiled and kept it, or the environment is not cached

    def load_bytecode(self, bucket: Bucket) -> None:
        pass

    def dump_bytecode(self, bucket: Bucket) -> None:
        pass


def _keep(key: tuple, checksum: str, code) -> None:
    if len(_COMPILED) >= _MOST:
        _COMPILED.clear()
    _COMPILED[key] = (checksum, code)
