"""``python -m kepu_gateway``: serve the gateway with uvicorn, in ``GATEWAY_WORKERS`` processes.

The gateway keeps no session in memory (the SPA holds its tokens), so any worker can answer any
request. What each worker still keeps for itself: its verified-token cache and gRPC channels
(caches, nothing to share) and its Prometheus registry (``kepu_gateway.scrape`` gathers every
worker's registry into the one ``/metrics`` page, through the instance's directory
``GATEWAY_RUN_DIR``). The rate limiter's windows are shared: one table in that directory
(``kepu_gateway.ratelimit``), so a caller's
per-minute budget is the instance's, whichever workers its connections reach.
"""

from __future__ import annotations

import os
import shutil
import tempfile

import uvicorn
from fastapi import FastAPI
from kepu_common import telemetry

from . import ratelimit, scrape
from .app import create_app
from .settings import GatewaySettings


def serve() -> FastAPI:
    """The app of one worker process (uvicorn's factory, called in each worker)."""
    telemetry.setup("gateway", role="serve", serve_metrics=False)  # /metrics: our own port
    scrape.announce()
    app = create_app(GatewaySettings())
    # Each worker builds its OpenAPI document before it serves (seconds on a loaded machine),
    # not on the first GET /openapi.json it happens to receive.
    app.openapi()
    return app


def main() -> None:
    settings = GatewaySettings()
    # One directory per gateway instance, shared by its workers (they inherit the environment).
    own_dir = not os.environ.get(ratelimit.RUN_DIR_ENV)
    if own_dir:
        os.environ[ratelimit.RUN_DIR_ENV] = tempfile.mkdtemp(prefix="kepu-gateway-")
    try:
        _serve(settings)
    finally:
        if own_dir:
            shutil.rmtree(os.environ[ratelimit.RUN_DIR_ENV], ignore_errors=True)


def _serve(settings: GatewaySettings) -> None:
    uvicorn.run(
        "kepu_gateway.__main__:serve",
        factory=True,
        host=settings.host,
        port=settings.port,
        log_level="warning",
        access_log=False,  # EdgeMiddleware writes the access log, with tenant and request id
        log_config=None,  # uvicorn's own lines go through kepu_common.logs (JSON) too
        workers=settings.workers,
        # uvicorn kills a worker that does not answer its ping within this (default 5 s): on
        # a loaded node a starting worker (imports, the OpenAPI document) takes longer, and
        # was killed and restarted in a loop.
        timeout_worker_healthcheck=60,
        # X-Forwarded-For is read by the edge, from GATEWAY_TRUSTED_PROXIES only.
        proxy_headers=False,
    )


if __name__ == "__main__":
    main()
