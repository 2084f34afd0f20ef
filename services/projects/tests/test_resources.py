"""The resource library on the real database: 文峰区 describes a 挂图 with its author, uploads
the pdf and submits it; 安阳市 (the parent) returns it with a reason, then publishes it; the
town below reads and downloads it (counted), a sibling county and another city do not see it
until it is shared with the province; the publication is one event in the outbox; the year's
count rolls up to the province against its 1,000 target. Bad files are refused, nothing written
and nothing left in the store."""

from __future__ import annotations

import uuid

import pytest
from kepu.events.v1 import envelope_pb2
from kepu.projects.v1 import resources_pb2
from kepu_common.db import Scope
from kepu_common.errors import Conflict, InvalidArgument, NotFound, PermissionDenied
from kepu_common.objects import FileSystemStore
from kepu_projects.resources import repository as repo
from kepu_projects.resources import service
from projects_testkit import system_rows
from sqlalchemy import text

PDF = b"%PDF-1.4\n1 0 obj\n%%EOF\n"
MP4 = b"\x00\x00\x00\x18ftypmp42" + b"\0" * 64


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return FileSystemStore(tmp_path_factory.mktemp("resources"))


@pytest.fixture(scope="module")
def author(db, tree):
    tid = str(uuid.uuid4())
    with db.unit_of_work(Scope.system_scope()) as s:
        repo.upsert_talent(s, tid, tree["410502"].path, "certified")
    return tid


def form(**over):
    data = {"kind": "挂图", "title": "防汛避险挂图", "theme": "应急科普",
            "summary": "汛期避险十条。", "author_ids": [], "share_scope": "subtree"}  # fmt: skip
    data.update(over)
    return data


def published_events(db):
    out = []
    for (payload,) in system_rows(
        db, "SELECT payload FROM outbox WHERE type = 'projects.resource.published' ORDER BY id"
    ):
        env = envelope_pb2.EventEnvelope.FromString(bytes(payload))
        msg = resources_pb2.ResourcePublished()
        env.payload.Unpack(msg)
        out.append(msg)
    return out


def files_in(store):
    return sorted(p.name for p in store.root.rglob("*") if p.is_file())


def test_a_county_resource_is_returned_then_published_shared_and_downloaded(
    act, db, tree, clock, store, author
):
    county, city, town = tree["410502"], tree["410500"], tree["410502001"]
    sibling, other_city, province = tree["410503"], tree["410300"], tree["410000"]
    r = act(county, service.create, form(author_ids=[author]), roles=("reporter",))
    assert (r.status, r.tenant_name, r.author_ids) == ("draft", "文峰区科协", [author])
    with pytest.raises(InvalidArgument) as no_file:
        act(county, service.submit, clock.now, r.id)
    assert no_file.value.violations[0].field == "files"
    f = act(county, service.attach, store, r.id, "防汛挂图.pdf", PDF)
    assert (f[2], f[3], f[4]) == ("防汛挂图.pdf", "application/pdf", len(PDF))
    act(county, service.submit, clock.now, r.id)

    # only the parent reviews; a sibling does not even see the draft
    with pytest.raises(NotFound):
        act(sibling, service.load, r.id)
    with pytest.raises(PermissionDenied):
        act(province, service.review, clock.now, r.id, "approve", "")
    with pytest.raises(InvalidArgument) as why:
        act(city, service.review, clock.now, r.id, "return", " ")
    assert why.value.violations[0].field == "reason"
    back = act(city, service.review, clock.now, r.id, "return", "请补充作者单位。")
    assert (back.status, back.return_reason) == ("returned", "请补充作者单位。")
    act(
        county,
        service.update,
        r.id,
        form(author_ids=[author], summary="汛期避险十条（文峰区科技馆）"),
    )
    act(county, service.submit, clock.now, r.id)
    done = act(city, service.review, clock.now, r.id, "approve", "")
    assert done.status == "published" and done.published_at is not None
    with pytest.raises(Conflict):
        act(city, service.review, clock.now, r.id, "approve", "")
    [ev] = [e for e in published_events(db) if e.resource_id == r.id]
    assert (ev.tenant_id, ev.kind, ev.month, ev.year) == (county.id, "挂图", "2026-03", 2026)

    # shared with the county's subtree: the town reads and downloads it, siblings do not
    row, content = act(town, service.download, store, r.id, f[0])
    assert content == PDF and row[2] == "防汛挂图.pdf"
    assert act(county, service.load, r.id).downloads == 1
    shared, _ = act(town, service.list_resources, shared=True)
    assert r.id in [x.id for x in shared]
    for outsider in (sibling, other_city):
        with pytest.raises(NotFound):
            act(outsider, service.download, store, r.id, f[0])
        assert r.id not in [x.id for x in act(outsider, service.list_resources, shared=True)[0]]

    # a province-wide resource is read (and counted) by another city
    v = act(county, service.create, form(kind="微视频", title="地震逃生", share_scope="province"))
    act(county, service.attach, store, v.id, "逃生.mp4", MP4)
    act(county, service.submit, clock.now, v.id)
    act(city, service.review, clock.now, v.id, "approve", "")
    vf = act(other_city, service.load, v.id).files[0]
    act(other_city, service.download, store, v.id, vf[0])
    assert act(county, service.load, v.id).downloads == 1
    with pytest.raises(PermissionDenied):  # readers never change it
        act(other_city, service.update, v.id, form())

    # the year's count: the province sees both under 安阳, against 1,000
    c = act(province, service.yearly_count, "", 2026)
    assert (c.total, c.target) == (2, 1000)
    assert dict((t.name, n) for t, n in c.children)["安阳市科协"] == 2
    assert c.by_kind["挂图"] == 1 and c.by_kind["微视频"] == 1
    assert act(sibling, service.yearly_count, "", 2026).total == 0


def test_a_bad_file_is_refused_naming_the_field_with_nothing_written(act, db, tree, store):
    county = tree["410502"]
    r = act(county, service.create, form(title="垃圾分类漫画", kind="漫画"))
    before = (files_in(store), system_rows(db, "SELECT count(*) FROM resource_files"))
    for name, content, limit in (
        ("setup.exe", b"MZ\x90\x00" + b"\0" * 50, 1024),
        ("伪装.pdf", b"MZ\x90\x00" + b"\0" * 50, 1024),
        ("大图.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 2048, 1024),
    ):
        with pytest.raises(InvalidArgument) as exc:
            act(county, service.attach, store, r.id, name, content, limit)
        assert exc.value.violations[0].field == "file"
    assert (files_in(store), system_rows(db, "SELECT count(*) FROM resource_files")) == before


def test_bad_forms_and_authors_from_elsewhere_are_refused(act, db, tree, author):
    other_city = tree["410300"]
    with db.unit_of_work(Scope.system_scope()) as s:
        n = s.execute(text("SELECT count(*) FROM resources")).scalar_one()
    for data, fld in (
        (form(kind="小说"), "kind"),
        (form(title=""), "title"),
        (form(share_scope="nation"), "share_scope"),
        (form(author_ids=["not-a-uuid"]), "author_ids"),
        (form(author_ids=[author]), "author_ids"),  # a talent of 文峰区, not of 洛阳市
    ):
        with pytest.raises(InvalidArgument) as exc:
            act(other_city, service.create, data)
        assert exc.value.violations[0].field == fld
    with pytest.raises(PermissionDenied):
        act(other_city, service.create, form(), roles=("viewer",))
    with db.unit_of_work(Scope.system_scope()) as s:
        assert s.execute(text("SELECT count(*) FROM resources")).scalar_one() == n
