"""docs/settings.md lists every plugin setting with the default the code really has."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from parallel import plugin as parallel
from pelican.plugins.indexes import plugin as indexes
from pelican.plugins.threads import plugin as threads
from pelican.plugins.topics import plugin as topics
from pelican.settings import DEFAULT_CONFIG
from readers import plugin as readers

import pelicanconf

DOC = Path(__file__).resolve().parent.parent / "docs" / "settings.md"
ROW = re.compile(r"^\| `([A-Z_]+)` \| `(.*?)` \| (.+) \|$", re.M)


def documented() -> dict[str, tuple[object, str]]:
    rows = {}
    for key, default, what in ROW.findall(DOC.read_text(encoding="utf-8")):
        assert key not in rows, f"{key} is listed twice"
        rows[key] = (ast.literal_eval(default), what)
    return rows


def in_code() -> dict[str, object]:
    found = {**threads.DEFAULTS, **topics.DEFAULTS, **indexes.DEFAULTS, **readers.DEFAULTS}
    settings: dict = {}
    parallel.set_defaults(type("P", (), {"settings": settings}))
    found.update(settings)  # BUILD_JOBS
    found["SPEED_LAYER"] = True  # compat.speed_layer: settings.get("SPEED_LAYER", True)
    # Read by the theme and the JSON-LD with an empty default (settings.get(..., "")).
    found.update(LICENSE_TEXT="", LICENSE_URL="")
    return found


def test_every_plugin_setting_is_documented_with_its_default():
    docs, code = documented(), in_code()
    assert sorted(docs) == sorted(code)
    assert {key: docs[key][0] for key in docs} == code
    assert all(len(what) > 20 for _default, what in docs.values())


def test_no_documented_setting_shadows_one_of_pelicans_own():
    assert not set(documented()) & set(DEFAULT_CONFIG)


def test_the_site_settings_point_at_the_reference():
    source = Path(pelicanconf.__file__).read_text(encoding="utf-8")
    assert "docs/settings.md" in source
    assert "plugins/threads/settings.py" not in source  # a file that never existed
