"""The web portal (门户): Chinese server-rendered pages on the gateway, signed in through SSO."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from ..problems import Problem, problem_response
from . import assessment_pages, auth, pages, project_pages, spa, talent_pages
from .sessions import COOKIE, SessionStore

SAFE = {"GET", "HEAD", "OPTIONS"}


def install(app: FastAPI) -> None:
    """Add the portal's routes, static files and the session middleware to the gateway."""
    app.state.portal_sessions = SessionStore()
    spa.install(app)
    app.mount(
        "/static/portal",
        StaticFiles(directory=str(Path(__file__).parent / "static")),
        name="portal-static",
    )
    app.include_router(auth.router)
    app.include_router(pages.router)
    app.include_router(talent_pages.router)
    app.include_router(project_pages.router)
    app.include_router(assessment_pages.router)

    @app.middleware("http")
    async def portal_session(request: Request, call_next: Any) -> Response:
        s = app.state.portal_sessions.from_cookie(request.cookies.get(COOKIE))
        request.state.portal_session = s
        if s is not None and s.signed_in and not request.headers.get("authorization"):
            if not await auth.ensure_fresh(request, s):
                app.state.portal_sessions.drop(s)
                request.state.portal_session = None
                if request.url.path.startswith("/api/"):
                    return problem_response(request, Problem(401, "登录已过期，请重新登录。"))
                return RedirectResponse("/login?next=" + request.url.path, status_code=303)
            s.last_seen = time.time()
            if (
                request.url.path.startswith("/api/")
                and request.method not in SAFE
                and request.headers.get("x-kepu-csrf") != s.csrf
            ):
                return problem_response(request, Problem(403, "页面已过期，请刷新页面后重试。"))
            request.state.session_token = s.access_token
        return await call_next(request)
