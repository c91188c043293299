"""The merchandiser's console at /console: static HTML, CSS and JavaScript modules shipped in `api/console/` and
served by the app itself — no CDN, no build step, nothing fetched from another origin. The pages call the same
/v1 API with the key the user signs in with, so a key sees in the console exactly what the API lets it see.

The files are read once, at import; each answer carries a strict Content-Security-Policy (scripts, styles and
requests to this origin only, no inline script or style, no framing). The routes are public (the page holds no
data) and left out of the OpenAPI document: they are not part of the API.
"""

from __future__ import annotations

from pathlib import Path

from litestar import Response, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

from api.auth import PUBLIC

CONSOLE_DIR = Path(__file__).resolve().parent.parent / "console"

MEDIA_TYPES = {
    ".html": "text/html",
    ".js": "text/javascript",
    ".css": "text/css",
}

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    )
)

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Cache-Control": "no-cache",  # (a new release's files are fetched at once; the files are small)
}


def load(directory: Path) -> dict[str, tuple[bytes, str]]:
    """The console's files by name: their bytes and media type."""
    return {
        path.name: (path.read_bytes(), MEDIA_TYPES[path.suffix])
        for path in sorted(directory.iterdir())
        if path.is_file() and path.suffix in MEDIA_TYPES
    }


FILES = load(CONSOLE_DIR)


def answer(name: str) -> Response[bytes]:
    found = FILES.get(name)
    if found is None:
        raise NotFoundException(f"The console has no file {name!r}.")
    body, media_type = found
    return Response(body, media_type=media_type, headers=HEADERS)


@get("/console", operation_id="getConsole", opt=PUBLIC, include_in_schema=False, name="console")
async def console_page() -> Response[bytes]:
    """The console's page."""
    return answer("index.html")


@get("/console/{name:str}", operation_id="getConsoleFile", opt=PUBLIC, include_in_schema=False)
async def console_file(name: FromPath[str]) -> Response[bytes]:
    """One of the console's scripts or style sheets."""
    return answer(name)
