"""Partners (银会合作): registration by a province or city, client-credentials tokens with
scopes, rotation and disabling, tenancy, and signed webhooks with retries."""

from __future__ import annotations

import base64
import json
import re
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from kepu.talent.v1 import talent_pb2
from kepu_common.consumer import handle_once
from kepu_common.db import Scope
from kepu_common.errors import InvalidArgument, NotFound, PermissionDenied
from kepu_common.outbox import build_envelope
from kepu_identity import consumers, webhooks
from sqlalchemy import text

from .conftest import principal_of

TOKEN = "/auth/realms/kepu/protocol/openid-connect/token"
ALL_SCOPES = ["partner:talents:read", "partner:projects:read", "partner:financing:write"]


def register(ident, code="411400", **kw: Any):
    args: dict[str, Any] = {
        "name": "邮储银行商丘分行",
        "scopes": ALL_SCOPES,
        "webhook_url": "",
        "events": [],
    }
    args.update(kw)
    return ident.partners.register(principal_of(ident, code), **args)


def counts(ident) -> tuple[int, int, int]:
    with ident.db.unit_of_work(Scope.system_scope()) as s:
        return (
            s.execute(text("SELECT count(*) FROM partners")).scalar_one(),
            s.execute(text("SELECT count(*) FROM clients")).scalar_one(),
            s.execute(
                text("SELECT count(*) FROM audit_log WHERE action LIKE 'partner%'")
            ).scalar_one(),
        )


def client_token(oidc, client_id: str, secret: str, scope: str = ""):
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    data = {"grant_type": "client_credentials"}
    if scope:
        data["scope"] = scope
    return oidc.post(TOKEN, data=data, headers={"Authorization": f"Basic {basic}"})


# --- registration and tenancy -------------------------------------------------------------


def test_a_city_registers_a_bank_and_sees_secrets_once(ident):
    issued = register(
        ident, webhook_url="https://bank.example.cn/hook", events=["talent.certified"]
    )
    p = issued.partner
    assert p.client_id.startswith("partner-411400-") and p.tenant_path == "410000.411400"
    assert len(issued.client_secret) >= 40 and issued.webhook_secret.startswith("whsec_")
    listed = ident.partners.list(principal_of(ident, "411400"))
    assert p.client_id in [r.client_id for r in listed]
    with ident.db.unit_of_work(Scope.system_scope()) as s:
        row = s.execute(
            text(
                "SELECT c.secret_hash, c.tenant_id::text AS tid, p.webhook_secret FROM clients c"
                " JOIN partners p USING (client_id) WHERE client_id = :c"
            ),
            {"c": p.client_id},
        ).one()
        audit = s.execute(
            text(
                "SELECT details FROM audit_log WHERE action = 'partner_registered' ORDER BY id DESC"
            )
        ).first()
    assert row.secret_hash.startswith("$argon2id$") and issued.client_secret not in row.secret_hash
    assert row.tid == p.tenant_id
    assert issued.webhook_secret.encode() not in bytes(row.webhook_secret)  # sealed
    assert audit is not None and audit.details["client_id"] == p.client_id


def test_a_sibling_city_cannot_see_rotate_or_disable_another_citys_bank(ident):
    p = register(ident).partner
    nanyang = principal_of(ident, "411300")
    assert p.client_id not in [r.client_id for r in ident.partners.list(nanyang)]
    with pytest.raises(NotFound):
        ident.partners.rotate_secret(nanyang, p.client_id)
    with pytest.raises(NotFound):
        ident.partners.disable(nanyang, p.client_id)
    # the province does not manage a city's partner either (each tenant its own)
    with pytest.raises(NotFound):
        ident.partners.rotate_secret(principal_of(ident, "410000"), p.client_id)


def test_only_province_or_city_admins_register(ident):
    before = counts(ident)
    with pytest.raises(PermissionDenied):
        register(ident, code="411402")  # a county
    with pytest.raises(PermissionDenied):
        ident.partners.register(
            principal_of(ident, "411400", roles=("viewer",)), "某银行", ALL_SCOPES, "", []
        )
    assert counts(ident) == before


@pytest.mark.parametrize(
    ("kw", "words"),
    [
        ({"scopes": ["admin"]}, "接口权限"),
        ({"scopes": ["partner:talents:read", "partner:talents:write"]}, "接口权限"),
        ({"scopes": []}, "至少"),
        ({"webhook_url": "ftp://bank.example.cn/hook"}, "http"),
        ({"webhook_url": "javascript:alert(1)"}, "http"),
        ({"webhook_url": "https://user:pw@bank.example.cn/"}, "用户名"),
        ({"webhook_url": "https://bank.example.cn:99999/"}, "格式"),
        ({"events": ["talent.certified"]}, "回调地址"),
        ({"webhook_url": "https://b.example.cn/", "events": ["talent.deleted"]}, "订阅事件"),
        ({"name": " "}, "名称"),
    ],
)
def test_bad_registrations_are_refused_in_chinese_and_change_nothing(ident, kw, words):
    before = counts(ident)
    with pytest.raises(InvalidArgument) as err:
        register(ident, **kw)
    assert words in err.value.detail
    assert counts(ident) == before


# --- tokens ---------------------------------------------------------------------------------


def test_client_credentials_token_carries_scopes_roles_and_the_tenant(ident, oidc):
    issued = register(ident, scopes=["partner:talents:read", "partner:financing:write"])
    cid, secret = issued.partner.client_id, issued.client_secret
    r = client_token(oidc, cid, secret)
    assert r.status_code == 200, r.text
    claims = ident.verifier.claims(r.json()["access_token"])
    assert claims["azp"] == cid and claims["realm_access"]["roles"] == ["partner"]
    assert claims["scope"] == "partner:talents:read partner:financing:write"
    assert claims["tenant_path"] == "410000.411400" and claims["tenant_kind"] == "city"
    narrowed = client_token(oidc, cid, secret, "partner:talents:read partner:projects:read")
    assert ident.verifier.claims(narrowed.json()["access_token"])["scope"] == (
        "partner:talents:read"
    )
    assert client_token(oidc, cid, "wrong").status_code == 401
    # a partner's token is refused by the identity service's own APIs
    with pytest.raises(PermissionDenied):
        ident.verifier.principal(r.json()["access_token"])


def test_python_keycloak_gets_a_token_and_rotation_invalidates_the_old_secret(ident):
    from keycloak import KeycloakOpenID
    from keycloak.exceptions import KeycloakAuthenticationError, KeycloakPostError

    app = ident.oidc_app()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        while not server.started:
            time.sleep(0.05)
        issued = register(ident)
        cid = issued.partner.client_id

        def bank(secret: str) -> KeycloakOpenID:
            return KeycloakOpenID(
                server_url=f"http://127.0.0.1:{port}/auth/",
                realm_name="kepu",
                client_id=cid,
                client_secret_key=secret,
            )

        token = bank(issued.client_secret).token(grant_type="client_credentials")
        assert ident.verifier.claims(token["access_token"])["azp"] == cid
        rotated = ident.partners.rotate_secret(principal_of(ident, "411400"), cid)
        with pytest.raises((KeycloakAuthenticationError, KeycloakPostError)):
            bank(issued.client_secret).token(grant_type="client_credentials")
        assert bank(rotated.client_secret).token(grant_type="client_credentials")["access_token"]
        ident.partners.disable(principal_of(ident, "411400"), cid)
        with pytest.raises((KeycloakAuthenticationError, KeycloakPostError)):
            bank(rotated.client_secret).token(grant_type="client_credentials")
    finally:
        server.should_exit = True
        thread.join(5)
    with ident.db.unit_of_work(Scope.system_scope()) as s:
        actions = s.execute(
            text("SELECT action FROM audit_log WHERE details->>'client_id' = :c ORDER BY id"),
            {"c": cid},
        ).scalars()
        assert list(actions) == ["partner_registered", "partner_secret_rotated", "partner_disabled"]


def test_a_county_resolves_its_citys_bank_but_not_another_citys(ident):
    p = register(ident).partner
    assert ident.partners.resolve(principal_of(ident, "411402"), p.client_id).client_id == (
        p.client_id
    )
    assert ident.partners.resolve(principal_of(ident, "410000"), p.client_id)  # an ancestor
    with pytest.raises(NotFound):
        ident.partners.resolve(principal_of(ident, "411303"), p.client_id)  # 南阳 卧龙区
    with pytest.raises(NotFound):
        ident.partners.resolve(principal_of(ident, "411402"), "partner-411400-00000000")


# --- webhooks -------------------------------------------------------------------------------


class Receiver:
    """A partner's webhook endpoint: records deliveries; fails the first ``fail`` times."""

    def __init__(self, secret_holder: dict[str, str], fail: int = 0) -> None:
        self.received: list[dict[str, Any]] = []
        self.calls = 0
        self.fail = fail
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.calls += 1
                ok = webhooks.verify(
                    secret_holder["secret"],
                    body,
                    self.headers["X-Kepu-Timestamp"],
                    self.headers["X-Kepu-Signature"],
                )
                if receiver.calls <= receiver.fail or not ok:
                    self.send_response(500 if ok else 401)
                    self.end_headers()
                    return
                receiver.received.append(
                    {"headers": dict(self.headers), "body": json.loads(body), "raw": body}
                )
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/kepu/webhook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def notice(client_id: str, event: str = "talent.certified"):
    payload = talent_pb2.PartnerNotice(
        partner_client_id=client_id,
        event=event,
        consent_id="c-1",
        talent=talent_pb2.PartnerTalent(
            id="8f1c6a52-4c1e-4a47-9a43-1f8bd27d6a11",
            name="王芳",
            gender="女",
            region_name="梁园区科协",
            region_code="411402",
            specialty="食用菌栽培",
            categories=["农村科普"],
            certificate_no="豫科普人才2026000001",
            phone_masked="139****0001",
            status="certified",
        ),
        occurred_at="2026-09-01T08:00:00+00:00",
    )
    return build_envelope(
        event_type="talent.partner_notice",
        tenant_id="t",
        tenant_path="410000.411400.411402",
        actor="u",
        payload=payload,
    )


def delivery(ident, event_id: str):
    with ident.db.unit_of_work(Scope.system_scope()) as s:
        return s.execute(
            text(
                "SELECT status, attempts, last_status_code, last_error FROM webhook_deliveries"
                " WHERE id = CAST(:i AS uuid)"
            ),
            {"i": event_id},
        ).first()


def subscribed(ident, receiver_url: str, holder: dict[str, str], events=("talent.certified",)):
    issued = register(ident, webhook_url=receiver_url, events=list(events))
    holder["secret"] = issued.webhook_secret
    return issued.partner.client_id


def test_a_notice_is_delivered_once_signed_with_the_webhook_secret(ident):
    holder: dict[str, str] = {}
    rx = Receiver(holder)
    try:
        cid = subscribed(ident, rx.url, holder)
        env = notice(cid)
        assert handle_once(
            ident.db, consumers.WEBHOOKS_CONSUMER, env, consumers.handle_partner_notice
        )
        assert not handle_once(
            ident.db, consumers.WEBHOOKS_CONSUMER, env, consumers.handle_partner_notice
        )
        # not subscribed to revocations: nothing to deliver
        revoked = notice(cid, "talent.revoked")
        handle_once(ident.db, consumers.WEBHOOKS_CONSUMER, revoked, consumers.handle_partner_notice)
        assert delivery(ident, revoked.event_id) is None
        dispatcher = webhooks.WebhookDispatcher(
            ident.db, ident.sealer, backoff_seconds=0.05, egress=ident.partners.egress
        )
        deadline = time.monotonic() + 10
        while delivery(ident, env.event_id).status == "pending" and time.monotonic() < deadline:
            dispatcher.run_once()
            time.sleep(0.02)
        dispatcher.close()
        assert len(rx.received) == 1
        got = rx.received[0]
        assert got["headers"]["X-Kepu-Event"] == "talent.certified"
        assert got["headers"]["X-Kepu-Delivery"] == env.event_id
        assert abs(int(got["headers"]["X-Kepu-Timestamp"]) - time.time()) < 60
        assert got["body"]["data"]["name"] == "王芳" and got["body"]["partner"] == cid
        assert "id_number" not in got["raw"].decode()
        stamp, signature = got["headers"]["X-Kepu-Timestamp"], got["headers"]["X-Kepu-Signature"]
        assert not webhooks.verify("whsec_wrong", got["raw"], stamp, signature)
        assert delivery(ident, env.event_id).status == "delivered"
    finally:
        rx.close()


def test_a_failing_endpoint_is_retried_with_backoff_and_blocks_no_one(ident):
    flaky_secret: dict[str, str] = {}
    good_secret: dict[str, str] = {}
    flaky, good = Receiver(flaky_secret, fail=2), Receiver(good_secret)
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        dead_url = f"http://127.0.0.1:{sock.getsockname()[1]}/hook"
    try:
        flaky_env = notice(subscribed(ident, flaky.url, flaky_secret))
        dead_env = notice(subscribed(ident, dead_url, {}))
        good_env = notice(subscribed(ident, good.url, good_secret))
        for env in (dead_env, flaky_env, good_env):
            handle_once(ident.db, consumers.WEBHOOKS_CONSUMER, env, consumers.handle_partner_notice)
        dispatcher = webhooks.WebhookDispatcher(
            ident.db,
            ident.sealer,
            backoff_seconds=0.1,
            max_attempts=3,
            timeout=2.0,
            egress=ident.partners.egress,
        )
        dispatcher.run_once()  # first round: the good one arrives although the others fail
        assert len(good.received) == 1
        assert delivery(ident, dead_env.event_id).attempts == 1
        assert delivery(ident, flaky_env.event_id).last_status_code == 500
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and (
            delivery(ident, flaky_env.event_id).status == "pending"
            or delivery(ident, dead_env.event_id).status == "pending"
        ):
            dispatcher.run_once()
            time.sleep(0.05)
        dispatcher.close()
        ok = delivery(ident, flaky_env.event_id)
        assert (ok.status, ok.attempts, flaky.calls, len(flaky.received)) == ("delivered", 3, 3, 1)
        dead = delivery(ident, dead_env.event_id)
        assert (dead.status, dead.attempts) == ("failed", 3) and dead.last_error
    finally:
        flaky.close()
        good.close()


def docs_verifier():
    """The ``verified`` function exactly as docs/partner-api.md tells a partner to write it."""
    doc = (Path(__file__).parents[3] / "docs" / "partner-api.md").read_text(encoding="utf-8")
    section = doc[doc.index("## 4. Webhooks") :]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code is not None
    namespace: dict[str, Any] = {}
    exec(compile(code.group(1), "partner-api.md", "exec"), namespace)  # noqa: S102
    return namespace["verified"]


def test_a_verifier_following_the_docs_accepts_a_fresh_delivery_and_refuses_a_replay(ident):
    verified = docs_verifier()
    holder: dict[str, str] = {}
    rx = Receiver(holder)
    try:
        env = notice(subscribed(ident, rx.url, holder))
        handle_once(ident.db, consumers.WEBHOOKS_CONSUMER, env, consumers.handle_partner_notice)
        dispatcher = webhooks.WebhookDispatcher(
            ident.db, ident.sealer, backoff_seconds=0.05, egress=ident.partners.egress
        )
        deadline = time.monotonic() + 10
        while not rx.received and time.monotonic() < deadline:
            dispatcher.run_once()
        dispatcher.close()
    finally:
        rx.close()
    got = rx.received[0]
    headers, raw, secret = got["headers"], got["raw"], holder["secret"]
    sent_at = int(headers["X-Kepu-Timestamp"])
    assert verified(secret, headers, raw)  # fresh
    assert verified(secret, headers, raw, now=sent_at + 299)
    # the same recorded delivery replayed later is refused ...
    assert not verified(secret, headers, raw, now=sent_at + 301)
    # ... and so is the replay with a fresh timestamp put in: the timestamp is signed
    later = sent_at + 3600
    assert not verified(secret, headers | {"X-Kepu-Timestamp": str(later)}, raw, now=later)
    assert not verified(secret, headers, raw.replace("王芳".encode(), "王方".encode()))
    assert not verified("whsec_wrong", headers, raw)
