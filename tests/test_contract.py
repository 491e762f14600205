"""The contract between plugins (stacks_offers/contract.py): written down, true of a real build,
and enforced: a PLUGINS order that would build the site wrong stops the build at start."""

from __future__ import annotations

from pelican import signals

import pelicanconf
from stacks_offers import contract
from tests.sitebuild import PELICANCONF, ROOT, build, copy_content, run_build


def test_the_site_lists_its_plugins_in_an_order_the_contract_accepts():
    assert contract.order_problems(pelicanconf.PLUGINS) == []
    # Every plugin the site uses is in the contract.
    assert [contract.plugin_name(p) for p in pelicanconf.PLUGINS] == [
        p for p in contract.CONTRACT if p in [contract.plugin_name(q) for q in pelicanconf.PLUGINS]
    ]
    assert {contract.plugin_name(p) for p in pelicanconf.PLUGINS} == set(contract.CONTRACT)


def test_a_plugin_before_the_one_it_reads_from_is_a_problem_with_the_fix():
    swapped = ["parallel", "speedups", "topics", "threads", "indexes", "pelican.plugins.sitemap"]
    problems = contract.order_problems(swapped)
    assert problems == [
        "'topics' reads article.kind, which 'threads' sets, but comes before it",
        "'topics' reads article.thread, which 'threads' sets, but comes before it",
    ]
    assert contract._reordered([contract.plugin_name(p) for p in swapped]) == [
        "parallel",
        "speedups",
        "threads",
        "topics",
        "indexes",
        "pelican.plugins.sitemap",
    ]
    assert contract.order_problems(["indexes", "topics", "threads"]) != []
    assert contract.order_problems(["threads", "indexes"]) == []  # topics left out: fine


def test_what_each_plugin_says_it_sets_is_set_in_a_real_build(tmp_path):
    seen = {}

    def keep(generators):
        seen["generators"] = generators

    signals.all_generators_finalized.connect(keep, weak=False)
    try:
        build(tmp_path / "out", content=copy_content(tmp_path / "content"))
    finally:
        signals.all_generators_finalized.disconnect(keep)
    context = next(g for g in seen["generators"] if hasattr(g, "context")).context
    objects = {
        "article": context["articles"],
        "page": context["pages"],
        "category": [category for category, _items in context["categories"]],
        "topic": [topic for topic, _items in context.get("topics", [])],
    }
    for name, plugin in contract.CONTRACT.items():
        for attribute in plugin.sets:
            kind, _, field = attribute.partition(".")
            assert any(hasattr(obj, field) for obj in objects[kind]), (name, attribute)


def test_a_build_with_plugins_out_of_order_stops_with_a_clear_message(tmp_path):
    settings = tmp_path / "swapped.py"
    settings.write_text(
        f"import sys\nsys.path.insert(0, {str(ROOT)!r})\n"
        f"exec(open({str(PELICANCONF)!r}).read())\n"
        "PLUGINS = ['parallel', 'speedups', 'topics', 'threads', 'indexes', "
        "'pelican.plugins.sitemap']\n",
        encoding="utf-8",
    )
    content = copy_content(tmp_path / "content")
    done = run_build(tmp_path / "out", content, "--no-search", settings=settings, timeout=300)
    assert done.returncode == 1
    assert (
        "The build stopped: PluginOrderError: PLUGINS is in an order that would build the site "
        "wrong: 'topics' reads article.kind, which 'threads' sets, but comes before it"
        in done.stderr
    )
    assert "List them as ['parallel', 'speedups', 'threads', 'topics', 'indexes'" in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "out").exists()
