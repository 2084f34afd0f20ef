"""银会合作 end to end through the gateway: the province registers a bank with a webhook, the
梁园区 association (商丘) records a talent and the talent's consent, the chain certifies it,
the bank (python-keycloak, client credentials) lists it and posts a financing outcome that
the county sees, and the bank's endpoint receives the signed ``talent.certified`` notice."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
import time
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from kepu_devstack.e2e import api

PASSWORD = "Kepu#Bank2026"


def is_problem(r: httpx.Response, status: int) -> bool:
    return (
        r.status_code == status
        and r.headers["content-type"].startswith("application/problem+json")
        and any("\u4e00" <= c <= "\u9fff" for c in r.json()["detail"])
    )


def account(stack, parent: httpx.Client, parent_id: str, code: str) -> httpx.Client:
    """Issue (or re-issue) the admin account of child ``code``; returns its signed-in client."""
    kids = {k["code"]: k for k in parent.get(f"/api/v1/tenants/{parent_id}/children").json()}
    r = parent.post(
        f"/api/v1/tenants/{parent_id}/credentials",
        headers={"Accept": "application/json"},
        json={"scope": "children", "reset_tenant_ids": [kids[code]["id"]]},
    )
    assert r.status_code == 200, r.text
    issued = {c["tenant_code"]: c for c in r.json()["issued"]}[code]
    ok = httpx.post(
        f"{stack.gateway_url}/auth/realms/kepu/account/password",
        json={
            "username": issued["username"],
            "currentPassword": issued["initial_password"],
            "newPassword": PASSWORD,
        },
    )
    assert ok.status_code == 204, ok.text
    return api(stack, stack.login(issued["username"], PASSWORD))


class Receiver:
    """The bank's webhook endpoint: keeps what arrives with a valid signature."""

    def __init__(self) -> None:
        self.secret = ""
        self.received: list[dict[str, Any]] = []
        self.rejected = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                stamp = self.headers.get("X-Kepu-Timestamp", "")
                signed = stamp.encode() + b"." + body  # as docs/partner-api.md says
                expected = (
                    "sha256=" + hmac.new(outer.secret.encode(), signed, hashlib.sha256).hexdigest()
                )
                fresh = stamp.isdigit() and abs(time.time() - int(stamp)) <= 300
                if not fresh or not hmac.compare_digest(
                    expected, self.headers.get("X-Kepu-Signature", "")
                ):
                    outer.rejected += 1
                    self.send_response(401)
                    self.end_headers()
                    return
                outer.received.append({"headers": dict(self.headers), "body": json.loads(body)})
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/kepu"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def receiver():
    rx = Receiver()
    yield rx
    rx.close()


def test_a_bank_finances_a_consented_talent_and_hears_of_its_certification(stack, receiver):
    from keycloak import KeycloakOpenID

    province = api(stack, stack.admin_token())
    me = province.get("/api/v1/tenants/me").json()

    # the province registers the bank; a weak scope or a bad URL changes nothing
    assert is_problem(
        province.post("/api/v1/partners", json={"name": "某银行", "scopes": ["admin"]}), 422
    )
    r = province.post(
        "/api/v1/partners",
        json={"name": "某银行", "scopes": ["partner:talents:read"], "webhook_url": "ftp://x"},
    )
    assert is_problem(r, 422)
    r = province.post(
        "/api/v1/partners",
        json={
            "name": "中国邮政储蓄银行河南省分行",
            "scopes": ["partner:talents:read", "partner:financing:write"],
            "webhook_url": receiver.url,
            "events": ["talent.certified"],
        },
    )
    assert r.status_code == 201, r.text
    creds = r.json()
    receiver.secret = creds["webhook_secret"]
    client_id, client_secret = creds["partner"]["client_id"], creds["client_secret"]
    listed = province.get("/api/v1/partners").json()
    assert client_id in [p["client_id"] for p in listed]
    assert "client_secret" not in json.dumps(listed)

    # 商丘 and 梁园区 get their accounts through the API
    shangqiu = account(stack, province, me["id"], "411400")
    sq = shangqiu.get("/api/v1/tenants/me").json()
    liangyuan = account(stack, shangqiu, sq["id"], "411402")
    assert shangqiu.get("/api/v1/partners").json() == []  # the province's, not the city's

    body = {
        "name": "银会合作",
        "gender": "女",
        "phone": f"139{secrets.randbelow(10**8):08d}",
        "employer": "梁园区农技协",
        "specialty": "食用菌栽培",
        "categories": ["农村科普", "服务精准扶贫"],
    }
    deadline = time.monotonic() + 30
    while True:  # the talent service learns the tree from identity.events
        r = liangyuan.post("/api/v1/talents", json=body)
        if r.status_code == 201 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert r.status_code == 201, r.text
    talent = r.json()

    expires = (date.today() + timedelta(days=365)).isoformat()
    past = liangyuan.post(
        f"/api/v1/talents/{talent['id']}/consents",
        json={"partner_client_id": client_id, "purpose": "融资服务", "expires_at": "2020-01-01"},
    )
    assert is_problem(past, 422)
    r = liangyuan.post(
        f"/api/v1/talents/{talent['id']}/consents",
        json={"partner_client_id": client_id, "purpose": "银会合作融资服务", "expires_at": expires},
    )
    assert r.status_code == 201, r.text
    consent = r.json()
    assert consent["live"] is True

    # the chain certifies: 梁园区 recommends, 商丘 gives its opinion, the province certifies
    r = liangyuan.post(f"/api/v1/talents/{talent['id']}/recommend", json={"opinion": "同意推荐"})
    assert r.status_code == 200, r.text
    r = shangqiu.post(
        f"/api/v1/talents/{talent['id']}/review", json={"decision": "approve", "opinion": "同意"}
    )
    assert r.status_code == 200, r.text
    r = province.post(
        f"/api/v1/talents/{talent['id']}/review", json={"decision": "approve", "opinion": "同意"}
    )
    assert r.status_code == 200 and r.json()["status"] == "certified", r.text

    # the bank, with python-keycloak's client credentials
    bank_oidc = KeycloakOpenID(
        server_url=f"{stack.gateway_url}/auth/",
        realm_name="kepu",
        client_id=client_id,
        client_secret_key=client_secret,
    )
    token = bank_oidc.token(grant_type="client_credentials")["access_token"]
    bank = api(stack, token)
    assert is_problem(bank.get("/api/v1/talents"), 403)
    assert is_problem(bank.get("/api/v1/tenants/me"), 403)
    assert is_problem(bank.get("/api/v1/projects"), 403)  # the gateway stops partner tokens
    assert is_problem(bank.get("/api/v1/report-types"), 403)
    assert is_problem(province.get("/partner/v1/talents"), 403)
    assert is_problem(bank.get("/partner/v1/projects"), 403)  # no partner:projects:read
    seen = bank.get("/partner/v1/talents").json()
    mine = [t for t in seen["talents"] if t["id"] == talent["id"]]
    assert mine and mine[0]["region_code"] == "411402" and mine[0]["certificate_no"]
    assert "****" in mine[0]["phone_masked"] and body["phone"] not in json.dumps(seen)

    outcome = {
        "talent_id": talent["id"],
        "product": "科技人才贷",
        "amount_yuan": 50000,
        "status": "已放款",
        "decided_at": date.today().isoformat(),
    }
    assert is_problem(bank.post("/partner/v1/financing", json=outcome | {"amount_yuan": -1}), 422)
    r = bank.post("/partner/v1/financing", json=outcome)
    assert r.status_code == 201, r.text
    got = liangyuan.get(f"/api/v1/talents/{talent['id']}/financing").json()
    assert [(o["product"], o["amount_yuan"], o["status"]) for o in got] == [
        ("科技人才贷", "50000.00", "已放款")
    ]

    # the signed webhook
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not any(
        x["body"]["data"]["id"] == talent["id"] for x in receiver.received
    ):
        time.sleep(0.5)
    hook = next(x for x in receiver.received if x["body"]["data"]["id"] == talent["id"])
    assert hook["headers"]["X-Kepu-Event"] == "talent.certified"
    assert hook["body"]["type"] == "talent.certified" and hook["body"]["partner"] == client_id
    assert hook["headers"]["X-Kepu-Delivery"] == hook["body"]["id"]
    assert receiver.rejected == 0

    # revoking the consent hides the talent from the bank
    r = liangyuan.delete(f"/api/v1/talents/{talent['id']}/consents/{consent['id']}")
    assert r.status_code == 200 and r.json()["live"] is False
    seen = bank.get("/partner/v1/talents").json()
    assert talent["id"] not in [t["id"] for t in seen["talents"]]

    # disabling the bank stops its unexpired token at once
    assert province.delete(f"/api/v1/partners/{client_id}").status_code == 200
    assert is_problem(bank.get("/partner/v1/talents"), 401)
    assert is_problem(bank.post("/partner/v1/financing", json=outcome), 401)

    # the 等保 audit log: the bank's access and a full view of personal data, merged from
    # talent.events by identity's worker, with who acted, the source address and the object
    r = shangqiu.get(f"/api/v1/talents/{talent['id']}", params={"reveal": "true"})
    assert r.status_code == 200 and r.json()["fields"]["phone"] == body["phone"], r.text
    wanted = {"personal_data_viewed", "partner_access"}
    deadline = time.monotonic() + 60
    while True:
        got = province.get("/api/v1/audit", params={"limit": 1000}).json()
        mine = {
            e["action"]: e
            for e in got
            if e["action"] in wanted and f"talent:{talent['id']}" in e["object"]
        }
        if set(mine) == wanted or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert set(mine) == wanted, got[:5]
    viewed = mine["personal_data_viewed"]
    assert viewed["actor"] == "kx411400"  # 商丘's distributed admin
    assert viewed["client_ip"] == "127.0.0.1" and viewed["occurred_at"].endswith("+08:00")
    assert viewed["summary"].startswith("查看了人才的完整个人信息")
    access = mine["partner_access"]
    assert access["actor"] == client_id and access["client_ip"] == "127.0.0.1"
    assert "中国邮政储蓄银行河南省分行" in access["summary"]
    # 梁园区's auditor sees the entries of its own talent; another city's sees none
    assert any(
        e["action"] == "personal_data_viewed"
        for e in liangyuan.get("/api/v1/audit", params={"action": "personal_data_viewed"}).json()
    )
