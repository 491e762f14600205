"""Read an XML export safely, or fail with the file, line and problem."""

from __future__ import annotations

from pathlib import Path
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import parse

from .common import ImportFailure


def read_xml(path: Path) -> Element:
    """Parse with defusedxml (no entity expansion bombs, no external entities)."""
    try:
        return parse(str(path)).getroot()
    except ParseError as exc:
        line, column = exc.position
        raise ImportFailure(
            f"{path}:{line}:{column}: XML error: {str(exc).split(':')[0]}. "
            "Fix the file at that place (or export it again); nothing was imported."
        ) from exc
    except DefusedXmlException as exc:
        raise ImportFailure(f"{path}: refused: {exc}. Nothing was imported.") from exc
    except OSError as exc:
        raise ImportFailure(f"{path}: cannot read it ({exc.strerror}).") from exc


def local(tag: str) -> tuple[str, str]:
    """('{namespace}name') -> (namespace, name)."""
    if tag.startswith("{"):
        namespace, _, name = tag[1:].partition("}")
        return namespace, name
    return "", tag
