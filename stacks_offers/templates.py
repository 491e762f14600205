"""A plugin's default templates, used where the site's theme has none of that name."""

from __future__ import annotations

from pathlib import Path

from jinja2 import ChoiceLoader, FileSystemLoader


def add_defaults(generator, folder: Path) -> None:
    """Look in `folder` last: after THEME_TEMPLATES_OVERRIDES, the theme and
    Pelican's own `simple` theme, all of which Pelican's loader holds. A theme
    (or an override) with a template of the same name is used instead, so a
    theme can replace any of them. Call it from `generator_init`, before the
    generator loads a template."""
    generator.env.loader = ChoiceLoader([generator.env.loader, FileSystemLoader(str(folder))])
