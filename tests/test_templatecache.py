"""Templates compiled once per process (stacks_offers/templatecache.py), and the
topic vocabulary loaded once per process: what a build gets is what compiling
or loading anew would give."""

from __future__ import annotations

import operator
import shutil
import subprocess
import sys
from functools import partial

import pytest
from jinja2 import DictLoader, Environment, FileSystemBytecodeCache, nodes, pass_context
from jinja2.exceptions import TemplateAssertionError
from jinja2.ext import Extension
from pelican.utils import DateFormatter

from stacks_offers.templatecache import TemplateCache
from tests.sitebuild import ROOT, build, copy_content, run_build, snapshot

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
