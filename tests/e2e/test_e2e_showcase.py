"""The 先进典型 showcase end to end (issue 15): the province publishes a year's results, selects
the honoured city, a talent the county → city → province chain certified and a county's
activity, with a photo, and publishes them; an anonymous browser-like client then reads
/showcase (the only page without sign-in) with the names, units and citations and nothing else
about the person, revalidates it with its ETag, and loads the photo. An uncertified talent, a
wrong photo and a sibling's attempts are refused in Chinese, and nothing appears."""

from __future__ import annotations

import struct
import zlib
from datetime import datetime
from zoneinfo import ZoneInfo

import httpx
import pytest
from kepu_devstack.e2e import api, eventually, issue_accounts

pytestmark = pytest.mark.e2e
PASSWORD = "Kepu#Showcase2026"
CITY, SIBLING = "410900", "411200"  # 濮阳市, 三门峡市
BASE = "/api/v1/assessment/schemes"


def png(width: int = 8, height: int = 6) -> bytes:
    """A real (decodable) PNG, so that the anonymous browser of the portal's story shows it."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\0" + b"\x1d\x4e\x89" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


PNG = png()
PHONE = "13937112345"
CITATION = "扎根乡村二十年，带领农民学科技、用科技，年均开展农技培训四十余场。"


def is_problem(r: httpx.Response, status: int, field: str | None = None) -> bool:
    ok = (
        r.status_code == status
        and r.headers["content-type"].startswith("application/problem+json")
        and any("\u4e00" <= c <= "\u9fff" for c in r.json()["detail"])
    )
    if ok and field is not None:
        return field in {e["field"] for e in r.json().get("errors", [])}
    return ok


def certified_talent(province, city, county, county_id: str, name: str, *, certify: bool) -> str:
    body = {"name": name, "gender": "男", "phone": PHONE, "employer": "清丰县农业农村局",
            "categories": ["农村科普"], "tenant_id": county_id}  # fmt: skip
    last: list[httpx.Response] = []

    def recorded() -> bool:  # the talent service learns the county from identity.events
        last[:] = [county.post("/api/v1/talents", json=body)]
        return last[0].status_code == 201

    try:
        eventually(recorded, "the talent service knows the county")
    except AssertionError:
        raise AssertionError(last[0].text) from None
    r = last[0]
    tid = r.json()["id"]
    assert county.post(f"/api/v1/talents/{tid}/recommend", json={"opinion": "同意推荐"}).is_success
    if certify:
        for reviewer in (city, province):
            r = reviewer.post(
                f"/api/v1/talents/{tid}/review", json={"decision": "approve", "opinion": "同意"}
            )
            assert r.status_code == 200, r.text
        assert province.get(f"/api/v1/talents/{tid}").json()["status"] == "certified"
    return str(tid)


def test_a_year_of_honours_reaches_the_public_showcase(stack):
    year = datetime.now(ZoneInfo("Asia/Shanghai")).year - 1  # last year's honours, in January
    province = api(stack, stack.admin_token())
    me = province.get("/api/v1/tenants/me").json()
    tokens = issue_accounts(stack, stack.admin_token(), me["id"], [CITY, SIBLING], PASSWORD)
    city, sibling = api(stack, tokens[CITY]), api(stack, tokens[SIBLING])
    city_me = city.get("/api/v1/tenants/me").json()
    city_id, city_name = city_me["id"], city_me["name"]
    kids = city.get(f"/api/v1/tenants/{city_id}/children").json()
    county_code, county_id = kids[0]["code"], kids[0]["id"]
    county = api(
        stack, issue_accounts(stack, tokens[CITY], city_id, [county_code], PASSWORD)[county_code]
    )

    star = certified_talent(province, city, county, county_id, "李先进", certify=True)
    pending = certified_talent(province, city, county, county_id, "王待审", certify=False)
    r = county.post(
        "/api/v1/activities",
        json={"title": "科技下乡农技培训", "date": f"{year}-11-18", "place": "清丰县",
              "form": "培训", "target": "进乡村", "participants": 260},
    )  # fmt: skip
    assert r.status_code == 201, r.text
    activity = r.json()["id"]

    scheme = {
        "year": year, "name": f"{year}年度先进典型评选（端到端）", "honours_top_n": 1,
        "indicators": [{"code": "1", "name": "组织领导", "weight": 100, "kind": "manual"}],
    }  # fmt: skip
    r = province.post(BASE, json=scheme)
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    eventually(lambda: province.get(f"{BASE}/{sid}").json()["children"] >= 18, "18 cities")
    r = province.put(f"{BASE}/{sid}/scores/{city_id}",
                     json={"entries": [{"indicator_code": "1", "score": 95}]})  # fmt: skip
    assert r.status_code == 200, r.text

    add = f"{BASE}/{sid}/showcase"
    early = province.post(add, data={"kind": "unit", "subject_id": city_id, "citation": CITATION})
    assert is_problem(early, 409, "scheme_id") and "尚未发布" in early.json()["detail"]
    assert province.post(f"{BASE}/{sid}/publish").status_code == 200

    r = province.post(add, data={"kind": "unit", "subject_id": city_id, "citation": CITATION},
                      files={"photo": ("濮阳.png", PNG, "image/png")})  # fmt: skip
    assert r.status_code == 201, r.text
    assert (r.json()["name"], r.json()["published"]) == (city_name, False)
    r = province.post(add, data={"kind": "talent", "subject_id": star, "citation": CITATION})
    assert r.status_code == 201, r.text
    assert (r.json()["name"], r.json()["unit_name"]) == ("李先进", "清丰县农业农村局")
    r = province.post(add, data={"kind": "activity", "subject_id": activity, "citation": CITATION})
    assert r.status_code == 201, r.text

    # bad input: field by field, in Chinese, nothing written
    r = province.post(add, data={"kind": "talent", "subject_id": pending, "citation": CITATION})
    assert is_problem(r, 422, "subject_id") and "尚未通过认定" in r.json()["detail"]
    r = province.post(add, data={"kind": "activity", "subject_id": star, "citation": CITATION})
    assert is_problem(r, 422, "subject_id")
    r = province.post(add, data={"kind": "talent", "subject_id": star, "citation": "好"})
    assert is_problem(r, 409) or is_problem(r, 422, "citation")  # already in, or too short
    r = province.post(add, data={"kind": "unit", "subject_id": kids[0]["id"], "citation": "短"})
    assert is_problem(r, 422, "citation")
    r = province.post(add, data={"kind": "trophy", "subject_id": city_id, "citation": CITATION})
    assert is_problem(r, 422, "kind")
    # a sibling city: not its selection
    for attempt in (
        sibling.post(add, data={"kind": "unit", "subject_id": city_id, "citation": CITATION}),
        sibling.get(add),
        sibling.post(f"{add}/publish"),
    ):
        assert is_problem(attempt, 403) or is_problem(attempt, 404), attempt.text
    assert len(province.get(add).json()["items"]) == 3

    anonymous = httpx.Client(base_url=stack.gateway_url, timeout=30)
    assert "李先进" not in anonymous.get("/showcase").text  # drafts are not public
    r = province.post(f"{add}/publish")
    assert r.status_code == 200, r.text
    assert all(i["published"] for i in r.json()["items"])

    page = anonymous.get(f"/showcase/{year}")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    for text in (city_name, "李先进", "清丰县农业农村局", "科技下乡农技培训", f"{me['name']}表彰",
                 "优秀科普人才", f"{year}年度先进典型"):  # fmt: skip
        assert text in html, text
    assert PHONE not in html and PHONE[-4:] not in html  # no contact data, not even masked
    assert "public" in page.headers["cache-control"]
    again = anonymous.get(f"/showcase/{year}", headers={"If-None-Match": page.headers["etag"]})
    assert again.status_code == 304
    data = anonymous.get("/api/v1/showcase", params={"year": year}).json()
    unit = next(i for i in data["items"] if i["kind"] == "unit" and i["subject_id"] == city_id)
    assert unit["has_photo"] and set(data["items"][0]) >= {"name", "unit_name", "citation"}
    photo = anonymous.get(f"/showcase/photos/{unit['id']}")
    assert photo.status_code == 200 and photo.content == PNG
    assert photo.headers["content-type"] == "image/png"

    # removal takes it off the page at once (the ETag changes)
    talent_item = next(i for i in data["items"] if i["subject_id"] == star)
    assert province.delete(f"{add}/{talent_item['id']}").status_code == 200
    after = anonymous.get(f"/showcase/{year}", headers={"If-None-Match": page.headers["etag"]})
    assert after.status_code == 200 and "李先进" not in after.text
    assert anonymous.get("/showcase/photos/not-an-id").status_code == 404
