"""Templates compiled once per process (stacks_offers/templatecache.py), and the
topic vocabulary loaded once per process: what a build gets is what compiling
or loading anew would give."""

from __future__ import annotations

import operator
import shutil
import subprocess
import sys
from collections import Counter
from functools import partial, wraps

import jinja2
import pytest
from jinja2 import DictLoader, Environment, FileSystemBytecodeCache, nodes, pass_context
from jinja2.exceptions import TemplateAssertionError
from jinja2.ext import Extension
from pelican.utils import DateFormatter

from stacks_offers import reuse, templatecache
from stacks_offers.templatecache import TemplateCache, fingerprint, returns_what_it_wraps
from tests.sitebuild import PELICANCONF, ROOT, SITEURL, build, copy_content, run_build, snapshot
from tools import build as build_tool

PAGE = '{% if x %}{{ "Offer" | shout }}{% endif %} {{ name | shout }}'


def plain(shout, source=PAGE, **options) -> Environment:
    """An environment without a bytecode cache: what Jinja alone gives."""
    env = Environment(loader=DictLoader({"page.html": source}), **options)
    env.filters["shout"] = shout
    return env


def environment(shout, source=PAGE, **options) -> Environment:
    env = plain(shout, source, **options)
    env.filters["strftime"] = DateFormatter()  # one per environment, as Pelican gives
    env.bytecode_cache = TemplateCache()
    return env


def upper(value):
    return str(value).upper()


def compiled(env: Environment):
    return env.get_template("page.html").root_render_func.__code__


def test_environments_alike_share_one_compilation():
    first, second = environment(upper), environment(upper)
    assert compiled(second) is compiled(first)
    assert second.get_template("page.html").render(x=1, name="dean") == "OFFER DEAN"


PREFIX = {"value": "https://a.test"}


def test_a_filter_called_on_constants_is_the_environments_own_whatever_it_reads():
    """Jinja calls a filter on constants while it compiles ("Offer" | shout): an
    environment whose `shout` is another function, the same function closing
    over another value or reading another module-level value, a partial of
    another number, renders what Jinja alone renders."""

    def lower(value):
        return str(value).lower()

    def suffixed(end):
        def shout(value):
            return f"{value}{end}"

        return shout

    def prefixed(value):
        return f"{PREFIX['value']}/{value}"

    def render(shout):
        return environment(shout).get_template("page.html").render(x=1, name="a")

    def alone(shout):
        return plain(shout).get_template("page.html").render(x=1, name="a")

    for shout in (upper, lower, suffixed("!"), suffixed("?"), partial(operator.mul, 2)):
        assert render(shout) == alone(shout)
    assert render(lower) == "offer a"
    assert render(partial(operator.mul, 1)) == alone(partial(operator.mul, 1)) == "Offer a"
    assert render(partial(operator.mul, True)) == "Offer a"
    seen = []
    for value in ("https://a.test", "https://b.test"):
        PREFIX["value"] = value
        seen.append(render(prefixed))
    assert seen == [
        "https://a.test/Offer https://a.test/a",
        "https://b.test/Offer https://b.test/a",
    ]
    # A filter that is handed the context is never called while compiling anyway.
    at_runtime = pass_context(lambda context, value: f"{value}@{context['where']}")
    rendered = environment(at_runtime).get_template("page.html").render(x=1, name="a", where="w")
    assert rendered == "Offer@w a@w"


def test_other_options_or_an_edited_source_compile_anew():
    base = environment(upper)
    assert compiled(environment(upper, trim_blocks=True)) is not compiled(base)
    edited = environment(upper, source=PAGE + "!")
    assert compiled(edited) is not compiled(base)
    assert edited.get_template("page.html").render(x=0, name="a") == " A!"
    # An environment without the filter fails as Jinja does without a cache.
    bare = Environment(loader=DictLoader({"page.html": PAGE}))
    bare.bytecode_cache = TemplateCache()
    with pytest.raises(TemplateAssertionError, match="No filter named 'shout'"):
        bare.get_template("page.html")


# Jinja works these out while it compiles: a filter, a lookup of an attribute
# and of an item, and a test, each on constants.
FOLDED = '{{ "offer" | upper }} {{ {"a": "seat"}.a }} {{ [3, 4][1] }} {{ 1 is odd }} {{ name | e }}'


def test_an_environment_watched_for_reuse_compiles_as_one_that_is_not():
    """`reuse.watch` wraps an environment's getattr and getitem, and its filters
    and tests, to note what a page reads; the wrappers return what they wrap, so
    the templates compile as without them: one compilation, the same page."""
    alone = plain(upper, source=FOLDED)  # Jinja alone, no cache
    first, watched = environment(upper, source=FOLDED), environment(upper, source=FOLDED)
    reuse.watch(watched)
    assert watched.getattr is not first.getattr and watched.filters["e"] is not first.filters["e"]
    assert fingerprint(watched, "page.html") == fingerprint(first, "page.html") is not None
    assert compiled(watched) is compiled(first)
    expected = alone.get_template("page.html").render(name="<dean>")
    assert expected == "OFFER seat 4 True &lt;dean&gt;"
    assert watched.get_template("page.html").render(name="<dean>") == expected


def test_a_getattr_of_the_environments_own_keeps_it_out_of_the_cache():
    """A getattr that is not Jinja's (even marked as wrapping another function)
    is called on constants while compiling: such an environment compiles as
    Jinja alone does, and its templates are not kept."""

    def looked_up(_obj, _attribute):
        return "looked up"

    alone = plain(upper, source=FOLDED)
    alone.getattr = looked_up
    expected = alone.get_template("page.html").render(name="a")
    assert expected == "OFFER looked up 4 True a"
    mine, wrapping = environment(upper, source=FOLDED), environment(upper, source=FOLDED)
    mine.getattr = looked_up
    wrapping.getattr = returns_what_it_wraps(lambda o, a: looked_up(o, a), looked_up)
    for env in (mine, wrapping):
        assert fingerprint(env, "page.html") is None
        assert env.get_template("page.html").render(name="a") == expected


def test_only_what_was_marked_counts_as_jinjas_own():
    """A filter of the site's own named as one of Jinja's, and a function that
    `functools.wraps` a marked wrapper (and so copies what it holds) but
    returns something else, are not Jinja's own: the page is what Jinja alone
    renders, and shares no compilation with an environment holding Jinja's."""
    source = '{{ ["a", "b"] | join }} {{ {"k": "v"}.k }}'

    def site_join(_value, _separator=""):
        return "CUSTOM"

    def site_getattr(_obj, _attribute):
        return "CUSTOM-ATTR"

    def shadowing(env):
        env.filters["join"] = site_join  # the site's own, watched like any other
        reuse.watch(env)

    def wrapping_a_watched_one(env):
        reuse.watch(env)
        env.filters["join"] = wraps(env.filters["join"])(site_join)
        env.getattr = wraps(env.getattr)(site_getattr)

    jinjas = environment(upper, source=source)
    assert jinjas.get_template("page.html").render() == "ab v"
    for change in (shadowing, wrapping_a_watched_one):
        alone, cached = plain(upper, source=source), environment(upper, source=source)
        change(alone)
        change(cached)
        expected = alone.get_template("page.html").render()
        assert "CUSTOM" in expected
        assert fingerprint(cached, "page.html") != fingerprint(jinjas, "page.html")
        assert cached.get_template("page.html").render() == expected
    # and Jinja's own environment, compiled after them, still renders its own
    assert environment(upper, source=source).get_template("page.html").render() == "ab v"


def test_a_build_compiles_each_template_once_and_the_next_build_none(tmp_path, monkeypatch):
    """A real build (tools/build.py, which watches what each page reads for the
    next incremental publish) compiles each template once for all its
    generators and keeps it beside its store; the next publish, after an edit,
    in a process that has compiled nothing, reads them all from there."""
    names: list[str] = []
    jinjas = jinja2.Environment.compile

    def compile_counted(self, source, name=None, filename=None, raw=False, defer_init=False):
        names.append(name)
        return jinjas(self, source, name, filename, raw, defer_init)

    monkeypatch.setattr(jinja2.Environment, "compile", compile_counted)
    content = copy_content(tmp_path / "content")
    output = tmp_path / "site" / "output"
    extra = {"PATH": str(content), "SITEURL": SITEURL, "FEED_DOMAIN": SITEURL}

    def publish() -> dict[str, int]:
        monkeypatch.setattr(templatecache, "_COMPILED", {})  # as a new process has
        assert build_tool.build(PELICANCONF, output, True, extra, search=False) == 0
        kept = output.parent.glob(".site-versions/.templates-*/*")
        return {path.name: path.stat().st_mtime_ns for path in kept}

    first = publish()
    assert len(names) > 30 and Counter(names).most_common(1)[0][1] == 1, Counter(names)
    assert len(first) == len(names)
    names.clear()
    post = sorted((content / "posts").glob("*.md"))[0]
    post.write_text(post.read_text(encoding="utf-8") + "\nEdited.\n", encoding="utf-8")
    assert publish() == first and names == []


class Greeting(Extension):
    """`{% greet %}`: a word chosen while compiling, from what the extension set
    on the environment (as jinja2.ext.i18n sets `newstyle_gettext`)."""

    tags = frozenset({"greet"})

    def __init__(self, environment) -> None:
        super().__init__(environment)
        environment.extend(greeting="Hello")

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        return nodes.Output([nodes.Const(self.environment.greeting)], lineno=lineno)


def test_what_an_extension_set_on_the_environment_is_part_of_the_key():
    def greeting(word: str) -> str:
        env = Environment(loader=DictLoader({"hi.html": "{% greet %}, reader"}))
        env.add_extension(Greeting)
        env.greeting = word
        env.bytecode_cache = TemplateCache()
        return env.get_template("hi.html").render()

    assert [greeting("Hello"), greeting("Welcome"), greeting("Hello")] == [
        "Hello, reader",
        "Welcome, reader",
        "Hello, reader",
    ]


def test_the_disk_cache_behind_it_is_written_and_read_by_another_process(tmp_path):
    """An incremental build keeps compiled templates on disk for the next process;
    the next process's filters may be other functions of the same names."""
    source = PAGE + " on disk"
    env = environment(upper, source=source)
    env.bytecode_cache = TemplateCache(FileSystemBytecodeCache(str(tmp_path)))
    assert env.get_template("page.html").render(x=1, name="a") == "OFFER A on disk"
    assert len(list(tmp_path.iterdir())) == 1
    script = f"""
import sys
sys.path[:0] = [{str(ROOT)!r}]
from jinja2 import DictLoader, Environment, FileSystemBytecodeCache
from pelican.utils import DateFormatter
from stacks_offers.templatecache import TemplateCache
env = Environment(loader=DictLoader({{"page.html": {source!r}}}))
env.filters["shout"] = str.title
env.filters["strftime"] = DateFormatter()
env.bytecode_cache = TemplateCache(FileSystemBytecodeCache({str(tmp_path)!r}))
print(env.get_template("page.html").render(x=1, name="a"))
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "Offer A on disk"
    assert len(list(tmp_path.iterdir())) == 1  # read, not written again


def test_a_build_after_the_vocabulary_changes_reads_it_anew_in_the_same_process(tmp_path):
    """The vocabulary and model are loaded once per process while their files are
    the same: a second build in the same process after an edit is what a new
    process builds from the edited files, and a copy of the same files in
    another folder is named by its own paths."""
    content = copy_content(tmp_path / "content")
    first = build(tmp_path / "first" / "output", content=content)
    vocabulary = content / "topics.toml"
    vocabulary.write_text(
        vocabulary.read_text(encoding="utf-8").replace("threshold = 3.5 ", "threshold = 30.0", 1),
        encoding="utf-8",
    )
    second = build(tmp_path / "second" / "output", content=content)
    assert snapshot(second.output) != snapshot(first.output)
    fresh = tmp_path / "fresh" / "output"
    done = run_build(fresh, content, "--no-search", "--full", fresh=True)
    assert done.returncode == 0, done.stderr[-3000:]
    shutil.rmtree(fresh.resolve() / "pagefind", ignore_errors=True)
    assert snapshot(second.output) == snapshot(fresh)
    # The edit made the model stale, and the warning names the files it is about.
    stale = [m for m in second.messages if "trained with another version" in m]
    assert stale == [
        f"{vocabulary}: the topic model {content / 'topics-model.json'} was trained with "
        "another version of this vocabulary; retrain it with `make topics-train`"
    ]
    moved = tmp_path / "moved"
    shutil.copytree(content, moved)
    third = build(tmp_path / "third" / "output", content=moved)
    assert [m for m in third.messages if "trained with another version" in m] == [
        f"{moved / 'topics.toml'}: the topic model {moved / 'topics-model.json'} was trained "
        "with another version of this vocabulary; retrain it with `make topics-train`"
    ]
