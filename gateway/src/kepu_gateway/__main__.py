"""``python -m kepu_gateway``: serve the gateway with uvicorn."""

from __future__ import annotations

import uvicorn
from kepu_common import telemetry

from .app import create_app
from .settings import GatewaySettings


def main() -> None:
    telemetry.setup("gateway")
    settings = GatewaySettings()
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level="warning",
        access_log=False,
        workers=1,
        # X-Forwarded-For is read by the edge, from GATEWAY_TRUSTED_PROXIES only.
        proxy_headers=False,
    )


if __name__ == "__main__":
    main()
