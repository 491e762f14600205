"""Serve the built site on this machine, working as it will online: `make serve`.

    python tools/serve.py [--output output] [--port 8000] [--bind 127.0.0.1]

`make publish` builds the site for the address it will be served at (SITEURL,
a placeholder until it is set), so its stylesheets, links, feeds and search
all point there. Served as it is, nothing would load locally. This server
shows exactly the files in `output/` (whichever build is there: `make publish`
or `make html`), and in pages, feeds, sitemaps and scripts it writes the site's
address as the local one, so every link stays on this machine. An unknown
address gets the site's own 404 page, with status 404. Files are read from
disk on every request: a new build shows on the next reload (with
`--reload-stamp`, as `make devserver` runs it, pages reload by themselves). Stop
with Ctrl-C.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import re
import sys
from pathlib import Path
from typing import ClassVar
from urllib.parse import unquote, urlsplit

# Files whose text may carry the site's address.
TEXT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".xml": "application/xml; charset=utf-8",
    ".json": "application/json; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".map": "text/plain; charset=utf-8",
}
CANONICAL = re.compile(rb'<link rel="canonical" href="(https?://[^"]+?)/?"')
# `make devserver` only: each page asks every second whether the site was built
# again since it loaded (BUILD_PATH answers with the build's stamp), and reloads.
# The published site carries no script of this kind.
BUILD_PATH = "/__build"
RELOAD = (
    b"<script>(() => { let seen = null; const ask = async () => { try { const r = await "
    b"fetch('/__build', {cache: 'no-store'}); const now = await r.text(); if (seen !== null "
    b"&& now !== seen) { location.reload(); return; } seen = now; } catch (e) {} "
    b"setTimeout(ask, 1000); }; ask(); })();</script>"
)


def site_address(root: Path) -> str | None:
    """The address the build was made for (from its home page's canonical
    link), or None for a build with relative addresses (`make html`)."""
    home = root / "index.html"
    if not home.is_file():
        return None
    found = CANONICAL.search(home.read_bytes()[:20000])
    return found.group(1).decode() if found else None


class Handler(http.server.SimpleHTTPRequestHandler):
    site: str | None = None  # the build's own address
    sites: ClassVar[dict[Path, str | None]] = {}  # each build's own address, by its folder
    local: str = ""  # this server's address
    stamp: Path | None = None  # with --reload-stamp: touched after every build

    def log_message(self, format, *args):
        sys.stderr.write(f"{self.address_string()} {format % args}\n")

    def do_GET(self):
        self._answer(body=True)

    def do_HEAD(self):
        self._answer(body=False)

    def _file(self, root: Path) -> tuple[Path | None, int]:
        relative = unquote(urlsplit(self.path).path).lstrip("/")
        path = (root / relative).resolve()
        if root != path and root not in path.parents:
            return None, 404
        if path.is_dir():
            if not self.path.split("?", 1)[0].endswith("/"):
                return path, 301
            path = path / "index.html"
        if path.is_file():
            return path, 200
        missing = root / "404.html"
        return (missing if missing.is_file() else None), 404

    def _answer(self, body: bool) -> None:
        if self.stamp is not None and urlsplit(self.path).path == BUILD_PATH:
            stamp = str(self.stamp.stat().st_mtime_ns if self.stamp.exists() else 0).encode()
            self._send(200, "text/plain; charset=utf-8", stamp, body)
            return
        # `output` is a link that every build moves to a new folder: follow it
        # on each request, and read the address that build was made for.
        root = Path(self.directory).resolve()
        if root not in self.sites:
            self.sites[root] = site_address(root)
        site = self.sites[root]
        path, status = self._file(root)
        if status == 301:
            self.send_response(301)
            self.send_header("Location", urlsplit(self.path).path + "/")
            self.end_headers()
            return
        if path is None:
            self.send_error(404)
            return
        data = path.read_bytes()
        kind = TEXT_TYPES.get(path.suffix) or self.guess_type(str(path))
        if site and path.suffix in TEXT_TYPES:
            data = data.replace(site.encode(), self.local.encode())
            escaped = site.replace("/", "\\/")  # as JSON may write it
            data = data.replace(escaped.encode(), self.local.replace("/", "\\/").encode())
        if self.stamp is not None and path.suffix == ".html":
            data = data.replace(b"</body>", RELOAD + b"</body>", 1)
        self._send(status, kind, data, body)

    def _send(self, status: int, kind: str, data: bytes, body: bool) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if body:
            self.wfile.write(data)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", type=Path, default=Path("output"))
    parser.add_argument("-p", "--port", type=int, default=8000)
    parser.add_argument("-b", "--bind", default="127.0.0.1")
    parser.add_argument(
        "--reload-stamp",
        type=Path,
        help="(make devserver) a file touched after every build: pages reload when it changes",
    )
    args = parser.parse_args(argv)
    root = args.output.resolve()
    if not (root / "index.html").is_file():
        print(
            f"{args.output}/ holds no built site yet: run `make publish` (or `make html`) first.",
            file=sys.stderr,
        )
        return 2
    site = site_address(root)
    server = http.server.ThreadingHTTPServer(
        (args.bind, args.port), functools.partial(Handler, directory=str(args.output.absolute()))
    )
    port = server.server_address[1]
    Handler.site, Handler.local = site, f"http://{args.bind}:{port}"
    Handler.stamp = args.reload_stamp
    made = (
        f"the build made for {site}, its addresses shown as local ones"
        if site
        else "a build with relative addresses (make html)"
    )
    print(f"Serving {args.output}/ ({made}) at http://{args.bind}:{port}/", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("Stopped")
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
