"""Webhook URLs cannot point the worker at our own network (SSRF), at registration and at
delivery, unless an operator allowed that network explicitly (an on-premise bank)."""

from __future__ import annotations

import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Thread

import pytest
from kepu_common.consumer import handle_once
from kepu_common.errors import InvalidArgument
from kepu_identity import consumers, webhooks
from kepu_identity.egress import Egress
from kepu_identity.partners import Partners

from .conftest import principal_of
from .test_partners import ALL_SCOPES, delivery, notice, subscribed

INTERNAL = [
    "http://127.0.0.1/hook",
    "http://[::1]/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://10.0.0.1/hook",
    "http://2130706433/hook",  # 127.0.0.1 written as one integer
    "http://0x7f.1/hook",
    "http://192.168.1.10:8080/hook",
    "http://[::ffff:127.0.0.1]/hook",
    "http://0.0.0.0/hook",
    "http://224.0.0.1/hook",
    "http://localhost:9/hook",  # a name that resolves to loopback
]


@pytest.mark.parametrize("url", INTERNAL)
def test_a_webhook_to_an_internal_address_is_refused_at_registration(ident, url):
    strict = Partners(ident.db, ident.sealer)  # no allow-list: the production default
    with pytest.raises(InvalidArgument, match="内网"):
        strict.register(
            principal_of(ident, "411400"),
            name="某银行",
            scopes=ALL_SCOPES,
            webhook_url=url,
            events=["talent.certified"],
        )


def test_a_public_address_is_accepted_and_the_allow_list_opens_a_private_network():
    Egress().check_url("https://8.8.8.8/hook")
    Egress().check_url("https://bank.example.cn/hook")  # not resolvable here: checked later
    on_premise = Egress.parse("10.8.0.0/16")
    on_premise.check_url("http://10.8.3.4/hook")
    with pytest.raises(InvalidArgument):
        on_premise.check_url("http://10.9.0.1/hook")
    with pytest.raises(InvalidArgument):
        on_premise.check_url("http://169.254.169.254/")


class Receiver:
    def __init__(self) -> None:
        self.calls = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                outer.calls += 1
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_delivery_resolves_the_name_and_refuses_an_internal_address(ident):
    """Registered while allowed (or while its name pointed elsewhere), a webhook whose host
    now resolves to loopback is not called by a dispatcher without the allow-list."""
    rx = Receiver()
    try:
        cid = subscribed(ident, f"http://localhost:{rx.port}/hook", {})
        env = notice(cid)
        handle_once(ident.db, consumers.WEBHOOKS_CONSUMER, env, consumers.handle_partner_notice)
        strict = webhooks.WebhookDispatcher(ident.db, ident.sealer, backoff_seconds=0.05)
        deadline = time.monotonic() + 10
        while delivery(ident, env.event_id).status == "pending" and time.monotonic() < deadline:
            strict.run_once()
            time.sleep(0.02)
        strict.close()
        refused = delivery(ident, env.event_id)
        assert (refused.status, rx.calls) == ("failed", 0)
        assert "内网" in refused.last_error

        # the same URL with the operator's allow-list is delivered, to the checked address
        env = notice(cid)
        handle_once(ident.db, consumers.WEBHOOKS_CONSUMER, env, consumers.handle_partner_notice)
        allowed = webhooks.WebhookDispatcher(
            ident.db, ident.sealer, backoff_seconds=0.05, egress=Egress.parse("127.0.0.0/8,::1")
        )
        deadline = time.monotonic() + 10
        while delivery(ident, env.event_id).status == "pending" and time.monotonic() < deadline:
            allowed.run_once()
            time.sleep(0.02)
        allowed.close()
        assert (delivery(ident, env.event_id).status, rx.calls) == ("delivered", 1)
    finally:
        rx.close()
