"""The portal (门户): the single-page app built from ``gateway/web`` and served under ``/app/``.

``/`` sends the browser to ``/app/``. Files of the build are answered as they are (hashed assets cached for a year); any other path
under ``/app/`` is a client route and gets ``index.html``. ``/app/config.json`` tells the app the
issuer and client it signs in with, so one build serves the embedded provider and Keycloak.
"""

from __future__ import annotations

import gzip
from functools import lru_cache
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response

PREFIX = "/app"
CLIENT_ID = "kepu-portal"
NOT_BUILT = (
    "<!doctype html><meta charset=utf-8><title>科普云服务平台</title>"
    "<p>门户页面尚未构建。请在项目根目录运行 <code>make run</code>（需要 Node.js 20 或更高版本），"
    "或在 gateway/web 中运行 <code>npm ci &amp;&amp; npm run build</code>。</p>"
)


@lru_cache(maxsize=256)
def _gzipped(path: Path, mtime: float) -> bytes:
    """A built asset compressed once (hashed names never change; the mtime guards a rebuild)."""
    return gzip.compress(path.read_bytes(), compresslevel=6)


def default_dist() -> Path:
    return Path(__file__).resolve().parents[2] / "web" / "dist"


def install(app: FastAPI, dist: Path | None = None) -> None:
    """Serve the built portal from ``dist`` (default: ``gateway/web/dist``)."""
    settings = app.state.settings
    root = (dist or default_dist()).resolve()
    router = APIRouter(include_in_schema=False)

    @router.get(f"{PREFIX}/config.json")
    def config() -> JSONResponse:
        return JSONResponse(
            {"issuer": str(settings.oidc_issuer).rstrip("/"), "client_id": CLIENT_ID},
            headers={"Cache-Control": "no-store"},
        )

    @router.get("/")
    @router.get(PREFIX)
    def bare() -> Response:
        return Response(status_code=308, headers={"Location": f"{PREFIX}/"})

    @router.get(PREFIX + "/{path:path}")
    def files(path: str, request: Request) -> Response:
        index = root / "index.html"
        if not index.is_file():
            return HTMLResponse(NOT_BUILT, status_code=503)
        candidate = (root / path).resolve()
        if path and candidate.is_file() and candidate.is_relative_to(root):
            immutable = path.startswith("assets/")
            cache = "public, max-age=31536000, immutable" if immutable else "no-cache"
            if (
                immutable
                and candidate.suffix in (".js", ".css")
                and "gzip" in request.headers.get("accept-encoding", "")
            ):
                media = "text/javascript" if candidate.suffix == ".js" else "text/css"
                return Response(
                    _gzipped(candidate, candidate.stat().st_mtime),
                    media_type=media,
                    headers={
                        "Cache-Control": cache,
                        "Content-Encoding": "gzip",
                        "Vary": "Accept-Encoding",
                    },
                )
            return FileResponse(candidate, headers={"Cache-Control": cache})
        if path.startswith("assets/"):
            return Response(status_code=404)
        return FileResponse(index, headers={"Cache-Control": "no-cache"})

    app.include_router(router)
