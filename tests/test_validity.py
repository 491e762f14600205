"""Every page of the demo site passes the Nu HTML Checker with zero errors."""

from __future__ import annotations

import json
import shutil
import subprocess

from tests.browser import VNU, require


def test_every_html_page_passes_the_nu_html_checker(site):
    java = shutil.which("java")
    require(java is not None, "Java (for the Nu HTML Checker)")
    require(VNU.is_file(), "the Nu HTML Checker (node_modules/vnu-jar)")
    pages = [str(p) for p in site.html_files()]
    assert len(pages) > 50
    done = subprocess.run(  # one JVM run over every file
        [java, "-jar", str(VNU), "--errors-only", "--format", "json", *pages],
        capture_output=True,
        text=True,
        timeout=600,
    )
    messages = json.loads(done.stderr or '{"messages": []}')["messages"]
    errors = [
        f"{m.get('url', '?')}:{m.get('lastLine', '?')}: {m['message']}"
        for m in messages
        if m.get("type") in ("error", "non-document-error")
    ]
    assert errors == []
    assert done.returncode == 0


def test_the_checker_does_report_an_error(tmp_path):
    """Proves the test above can fail: a page with a broken tree is caught."""
    java = shutil.which("java")
    require(java is not None, "Java (for the Nu HTML Checker)")
    require(VNU.is_file(), "the Nu HTML Checker (node_modules/vnu-jar)")
    page = tmp_path / "bad.html"
    page.write_text(
        "<!DOCTYPE html><html lang=en><title>x</title><p><div>x</p></div>", encoding="utf-8"
    )
    done = subprocess.run(
        [java, "-jar", str(VNU), "--errors-only", "--format", "json", str(page)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert json.loads(done.stderr)["messages"] and done.returncode != 0
