"""``python -m kepu_gateway``: serve the gateway with uvicorn."""

from __future__ import annotations

import uvicorn
from kepu_common import telemetry

from .app import create_app
from .settings import GatewaySettings


def main() -> None:
    telemetry.setup("gateway", role="serve", serve_metrics=False)  # /metrics: our own port
    settings = GatewaySettings()
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level="warning",
        access_log=False,  # EdgeMiddleware writes the access log, with tenant and request id
        log_config=None,  # uvicorn's own lines go through kepu_common.logs (JSON) too
        workers=1,
        # X-Forwarded-For is read by the edge, from GATEWAY_TRUSTED_PROXIES only.
        proxy_headers=False,
    )


if __name__ == "__main__":
    main()
