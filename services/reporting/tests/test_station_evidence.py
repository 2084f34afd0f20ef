"""e站 五有 evidence files over the gateway and the real servicer: the township's county
uploads a photo of the place and a pdf of the network contract, the station lists them under
their conditions, the county, the city and the province download them; a sibling county and
another city meet 404; a bad type, a disguised file, an unknown condition and an oversized file
are 422 problems in Chinese naming the field, with nothing written."""

from __future__ import annotations

import pytest
from kepu.reporting.v1 import stations_pb2_grpc
from kepu_common.objects import FileSystemStore
from kepu_devstack.gateway_testing import gateway_client
from kepu_reporting.stations.grpc_api import StationServicer
from reporting_testkit import feed_tree, system
from sqlalchemy import text

TREE = [
    ("210000", "辽宁省科协", "province", None),
    ("210700", "锦州市科协", "city", "210000"),
    ("210703", "凌河区科协", "county", "210700"),
    ("210703001", "石桥子街道", "township", "210703"),
    ("210702", "古塔区科协", "county", "210700"),
    ("210200", "大连市科协", "city", "210000"),
]
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 100
PDF = b"%PDF-1.4\n%%EOF\n"
PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def t(db):
    return feed_tree(db, TREE)


@pytest.fixture(scope="module")
def objects(tmp_path_factory):
    return tmp_path_factory.mktemp("station-evidence")


@pytest.fixture(scope="module")
def client(db, t, objects):
    pytest.importorskip("kepu_gateway.app")
    with gateway_client(
        "reporting",
        stations_pb2_grpc.add_StationServiceServicer_to_server,
        lambda verifier: StationServicer(verifier, db, FileSystemStore(objects)),
    ) as (c, headers):
        yield c, headers


@pytest.fixture(scope="module")
def station(client, t):
    c, h = client
    r = c.post("/api/v1/estations", headers=h(t["210703"]), json={
        "tenant_id": t["210703001"].id, "kind": "community", "name": "石桥子社区e站",
        "conditions": [{"code": "place", "met": True, "evidence": "活动室照片"}],
    })  # fmt: skip
    assert r.status_code == 201, r.text
    return r.json()["id"]


def upload(client, node, station_id, condition, name, content):
    c, h = client
    return c.post(
        f"/api/v1/estations/{station_id}/conditions/{condition}/files",
        headers=h(node), files={"file": (name, content, "application/octet-stream")},
    )  # fmt: skip


def counts(db):
    with system(db) as s:
        return s.execute(
            text(
                "SELECT (SELECT count(*) FROM station_evidence), (SELECT count(*) FROM outbox"
                " WHERE type = 'reporting.station.evidence_attached')"
            )
        ).one()


def test_the_county_attaches_evidence_that_the_levels_above_download(client, t, station, db):
    c, h = client
    county = t["210703"]
    photo = upload(client, county, station, "place", "活动室.png", PNG)
    assert photo.status_code == 201, photo.text
    assert (photo.json()["condition"], photo.json()["content_type"]) == ("place", "image/png")
    contract = upload(client, county, station, "network", "宽带合同.pdf", PDF)
    assert contract.status_code == 201, contract.text
    got = c.get(f"/api/v1/estations/{station}", headers=h(t["210700"])).json()
    files = {x["code"]: [f["filename"] for f in x["files"]] for x in got["conditions"]}
    assert files["place"] == ["活动室.png"] and files["network"] == ["宽带合同.pdf"]
    assert files["staff"] == []
    listed = c.get("/api/v1/estations", headers=h(t["210000"])).json()["stations"]
    assert any(x["id"] == station and x["conditions"] for x in listed)
    url = f"/api/v1/estations/{station}/files/{photo.json()['id']}"
    for node in (t["210703001"], county, t["210700"], t["210000"]):
        r = c.get(url, headers=h(node))
        assert r.status_code == 200 and r.content == PNG, (node.code, r.text)
        assert r.headers["content-type"] == "image/png"
    for node in (t["210702"], t["210200"]):
        r = c.get(url, headers=h(node))
        assert r.status_code == 404 and r.headers["content-type"].startswith(PROBLEM), node.code
        assert upload(client, node, station, "place", "x.png", PNG).status_code == 404
    with system(db) as s:
        paths = (
            s.execute(
                text(
                    "SELECT DISTINCT tenant_path::text FROM station_evidence"
                    " WHERE station_id = CAST(:id AS uuid)"
                ),
                {"id": station},
            )
            .scalars()
            .all()
        )
    assert paths == [t["210703001"].path]  # under the station's township, RLS keeps it there


@pytest.mark.parametrize(
    ("condition", "name", "content", "field", "needle"),
    [
        ("place", "程序.exe", b"MZ\x90\x00", "file", "不支持的文件类型"),
        ("place", "照片.jpg", b"not a jpeg", "file", "不符"),
        ("place", "大.pdf", b"%PDF" + b"0" * (20 * 1024 * 1024), "file", "过大"),
        ("garden", "照片.png", PNG, "path.condition", ""),
    ],
)
def test_a_bad_file_is_a_422_problem_naming_the_field_and_nothing_is_written(
    client, t, station, db, objects, condition, name, content, field, needle
):
    before, stored = counts(db), sorted(objects.rglob("*"))
    r = upload(client, t["210703"], station, condition, name, content)
    assert r.status_code == 422 and r.headers["content-type"].startswith(PROBLEM), r.text
    assert needle in r.json()["detail"]
    assert [e["field"] for e in r.json()["errors"]] == [field]
    assert counts(db) == before and sorted(objects.rglob("*")) == stored
