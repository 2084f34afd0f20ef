"""银会合作 for the project library, end to end through the gateway: 信阳 registers a bank with
``partner:projects:read`` and a ``project.approved`` webhook, 浉河区 files a project and
records its consent (平桥区, a sibling, sees nothing), 信阳 approves it into the library, the
bank (client credentials) lists it with minimal fields and receives the signed notice, and a
revoked consent hides it again."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
from test_e2e_partner import Receiver, api, is_problem
from test_e2e_projects import accounts, wait_for_child

SH = ZoneInfo("Asia/Shanghai")
XINYANG, SHIHE, PINGQIAO = "411500", "411502", "411503"


def test_a_bank_lists_a_consented_library_project_and_hears_of_its_approval(stack):
    receiver = Receiver()
    try:
        province = api(stack, stack.admin_token())
        me = province.get("/api/v1/tenants/me").json()
        city_token = accounts(stack, stack.admin_token(), me["id"], [XINYANG])[XINYANG]
        city = api(stack, city_token)
        city_me = city.get("/api/v1/tenants/me").json()
        tokens = accounts(stack, city_token, city_me["id"], [SHIHE, PINGQIAO])
        shihe, pingqiao = api(stack, tokens[SHIHE]), api(stack, tokens[PINGQIAO])
        year = datetime.now(SH).year
        wait_for_child(city, SHIHE, year)

        r = city.post(
            "/api/v1/partners",
            json={
                "name": "中国邮政储蓄银行信阳市分行",
                "scopes": ["partner:projects:read"],
                "webhook_url": receiver.url,
                "events": ["project.approved"],
            },
        )
        assert r.status_code == 201, r.text
        creds = r.json()
        receiver.secret = creds["webhook_secret"]
        client_id, client_secret = creds["partner"]["client_id"], creds["client_secret"]

        deadline = (datetime.now(SH) + timedelta(days=30)).date().isoformat()
        r = city.post(
            "/api/v1/calls",
            json={
                "title": f"{year}年信阳现代农业科普园项目申报",
                "programme": "现代农业科普园",
                "deadline": deadline,
                "quota": 5,
                "criteria": [{"name": "科学性", "weight": 1}],
                "min_reviewers": 1,
            },
        )
        assert r.status_code == 201, r.text
        call = r.json()
        phone = "13937600001"
        r = shihe.post(
            "/api/v1/projects",
            json={
                "name": "浉河区茶园科普示范基地",
                "applicant_unit": "浉河区科协",
                "completing_unit": "浉河区茶叶协会",
                "contact_person": "陈静",
                "contact_phone": phone,
                "category": "科普设施建设",
                "start_month": f"{year}-04",
                "end_month": f"{year}-12",
                "content": "建设信阳毛尖茶园科普长廊，开展茶农技术培训。",
                "expected_performance": "培训茶农300人次。",
                "budget": 120000,
                "call_id": call["id"],
            },
        )
        assert r.status_code == 201, r.text
        pid = r.json()["id"]
        assert shihe.post(f"/api/v1/projects/{pid}/submit").json()["status"] == "submitted"

        # consent: bad input and the sibling are refused; the owner records it
        expires = (datetime.now(SH) + timedelta(days=365)).date().isoformat()
        good = {
            "partner_client_id": client_id,
            "purpose": "银会合作融资服务",
            "expires_at": expires,
        }
        assert is_problem(
            shihe.post(
                f"/api/v1/projects/{pid}/consents", json=good | {"expires_at": "2020-01-01"}
            ),
            422,
        )
        assert is_problem(pingqiao.post(f"/api/v1/projects/{pid}/consents", json=good), 404)
        assert is_problem(pingqiao.get(f"/api/v1/projects/{pid}/consents"), 404)
        r = shihe.post(f"/api/v1/projects/{pid}/consents", json=good)
        assert r.status_code == 201, r.text
        consent = r.json()
        assert consent["live"] is True

        # 信阳 passes, scores and approves it into the library
        r = city.post(
            f"/api/v1/projects/{pid}/review", json={"decision": "pass", "opinion": "推荐"}
        )
        assert r.json()["status"] == "expert_review", r.text
        r = city.post(
            f"/api/v1/calls/{call['id']}/scores",
            json={"project_id": pid, "reviewer": "专家甲", "scores": {"科学性": 90}},
        )
        assert r.status_code == 201, r.text
        r = city.post(f"/api/v1/calls/{call['id']}/select", json={"top_n": 1})
        assert [p["id"] for p in r.json()["approved"]] == [pid], r.text

        token_r = httpx.post(
            f"{stack.gateway_url}/auth/realms/kepu/protocol/openid-connect/token",
            auth=(client_id, client_secret),
            data={"grant_type": "client_credentials"},
        )
        assert token_r.status_code == 200, token_r.text
        bank = api(stack, token_r.json()["access_token"])
        assert is_problem(bank.get(f"/api/v1/projects/{pid}"), 403)
        seen = bank.get("/partner/v1/projects").json()
        mine = [x for x in seen["projects"] if x["id"] == pid]
        assert mine and mine[0]["region_code"] == SHIHE and mine[0]["library_no"]
        assert mine[0]["implementation_months"] == 9 and mine[0]["budget"] == "120000.00"
        assert phone not in json.dumps(seen) and "contact_phone" not in mine[0]

        end = time.monotonic() + 60
        while time.monotonic() < end and not any(
            x["body"]["data"]["id"] == pid for x in receiver.received
        ):
            time.sleep(0.5)
        hook = next(x for x in receiver.received if x["body"]["data"]["id"] == pid)
        assert hook["headers"]["X-Kepu-Event"] == "project.approved"
        assert hook["body"]["partner"] == client_id and hook["body"]["consent_id"] == consent["id"]
        assert receiver.rejected == 0

        r = shihe.delete(f"/api/v1/projects/{pid}/consents/{consent['id']}")
        assert r.status_code == 200 and r.json()["live"] is False
        seen = bank.get("/partner/v1/projects").json()
        assert pid not in [x["id"] for x in seen["projects"]]
    finally:
        receiver.close()
