"""Draw the site's default share image (1200x630 PNG) in headless Chromium.

Social sites show an item's `og:image` beside a shared link; most refuse SVG,
so the theme ships a PNG, `theme/static/images/share.png`, made by this tool
from the site's name and subtitle (`make share-image`, after changing either).
It uses the Chromium and chromedriver the browser tests use; the build itself
never runs it: the PNG is committed.
"""

from __future__ import annotations

import argparse
import base64
import html
import importlib.util
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = ROOT / "theme" / "static" / "images" / "share.png"
WIDTH, HEIGHT = 1200, 630

# Book spines on a shelf, the site's colours: drawn with CSS, no font or file fetched.
SPINES = [
    (70, 300, "#0b5cab"), (46, 250, "#7a4a00"), (60, 330, "#11633a"), (40, 280, "#6a3fa0"),
    (66, 310, "#8a2d00"), (50, 240, "#1f2328"), (58, 300, "#0b5cab"), (44, 270, "#11633a"),
]  # fmt: skip


def card_html(name: str, subtitle: str) -> str:
    spines = "".join(
        f'<div style="width:{w}px;height:{h}px;background:{c}"></div>' for w, h, c in SPINES
    )
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><style>
html, body {{ margin: 0; width: {WIDTH}px; height: {HEIGHT}px; overflow: hidden; }}
body {{ background: #fdfcf8; color: #1f2328; font-family: "DejaVu Sans", system-ui, sans-serif;
  display: flex; align-items: center; gap: 56px; padding: 0 72px; box-sizing: border-box;
  border-bottom: 28px solid #0b5cab; }}
.shelf {{ display: flex; align-items: flex-end; gap: 6px; border-bottom: 10px solid #59636e;
  padding: 0 8px; flex: none; }}
.shelf div {{ border-radius: 4px 4px 0 0; }}
h1 {{ font-size: 84px; line-height: 1.05; margin: 0 0 28px; letter-spacing: -1px; }}
p {{ font-size: 38px; line-height: 1.3; margin: 0; color: #59636e; }}
</style></head><body><div class="shelf">{spines}</div>
<div><h1>{html.escape(name)}</h1><p>{html.escape(subtitle)}</p></div></body></html>"""


def render(name: str, subtitle: str, output: Path) -> Path:
    sys.path.insert(0, str(ROOT))
    from tests.browser import start_chromium, stop_chromium

    with tempfile.TemporaryDirectory() as folder:
        page = Path(folder) / "card.html"
        page.write_text(card_html(name, subtitle), encoding="utf-8")
        driver = start_chromium()
        try:
            metrics = {"width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": False}
            driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
            driver.get(page.as_uri())
            clip = {"x": 0, "y": 0, "width": WIDTH, "height": HEIGHT, "scale": 1}
            shot = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "clip": clip})
        finally:
            stop_chromium(driver)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(base64.b64decode(shot["data"]))
    return output


def site_names(settings: Path) -> tuple[str, str]:
    spec = importlib.util.spec_from_file_location("share_image_settings", settings)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.SITENAME, getattr(module, "SITESUBTITLE", "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--settings", type=Path, default=ROOT / "pelicanconf.py")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    name, subtitle = site_names(args.settings)
    print(f"Wrote {render(name, subtitle, args.output)} ({WIDTH}x{HEIGHT})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
