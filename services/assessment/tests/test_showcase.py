"""The 先进典型 showcase on the real database: the province selects honoured units and talents
of its published scheme, with a photo; drafts are the owner's, publication puts them on the
public list (read without a principal, in the system scope), removal takes them off; before the
results are published, for a talent the gateway found uncertified, a unit not honoured, a
disguised photo or a short citation, a Chinese error names the field and nothing is written."""

from __future__ import annotations

import copy
import uuid

import pytest
from assessment_testkit import PROVINCE_SCHEME, system
from kepu.assessment.v1 import showcase_pb2 as pb
from kepu.events.v1 import envelope_pb2
from kepu_assessment import service
from kepu_assessment.showcase import service as showcase
from kepu_common.db import Scope
from kepu_common.errors import AlreadyExists, Conflict, InvalidArgument, NotFound, PermissionDenied
from kepu_common.objects import FileSystemStore
from sqlalchemy import text

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
CITATION = "坚持科普进乡村，全年开展科普活动六十余场，受益群众两万人次。"


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return FileSystemStore(tmp_path_factory.mktemp("showcase"))


@pytest.fixture(scope="module")
def scheme(db, tree):
    prov = tree["410000"]
    p = prov.principal("admin")
    with db.unit_of_work(Scope.tenant(prov.path)) as s:
        return service.create_scheme(s, p, copy.deepcopy(PROVINCE_SCHEME) | {"honours_top_n": 1})


def item(scheme_id, kind="unit", subject="", **kw):
    return pb.AddShowcaseItemRequest(
        scheme_id=scheme_id,
        kind=kind,
        subject_id=subject,
        citation=kw.pop("citation", CITATION),
        **kw,
    )


def rows(db):
    with system(db) as s:
        return s.execute(text("SELECT count(*) FROM showcase_items")).scalar()


def public(db, year=0):
    with system(db) as s:
        return showcase.public(s, year)


def test_nothing_can_be_honoured_before_the_results_are_published(act, tree, scheme, store, db):
    prov, ny = tree["410000"], tree["411300"]
    with pytest.raises(Conflict) as exc:
        act(prov, showcase.add_item, store, item(scheme.id, subject=ny.id))
    assert "尚未发布" in exc.value.detail and exc.value.violations[0].field == "scheme_id"
    assert rows(db) == 0


def test_the_owner_honours_units_and_talents_and_publishes_them(act, tree, scheme, store, db):
    prov, ny, kf, wolong = tree["410000"], tree["411300"], tree["410200"], tree["411303"]
    act(prov, service.set_scores, scheme.id, ny.id, [{"indicator_code": "4", "score": 20}])
    act(prov, service.publish, scheme.id, now=True)
    honoured = act(prov, showcase.add_item, store, item(scheme.id, subject=ny.id, photo=PNG,
                                                         photo_filename="南阳.png"))  # fmt: skip
    assert (honoured.name, honoured.kind, honoured.published_at) == ("南阳市科协", "unit", None)
    # 开封 ranked but is not on the honours list (top 1)
    with pytest.raises(InvalidArgument) as exc:
        act(prov, showcase.add_item, store, item(scheme.id, subject=kf.id))
    assert exc.value.violations[0].field == "subject_id" and "先进名单" in exc.value.detail
    talent = str(uuid.uuid4())
    person = item(scheme.id, "talent", talent, subject_tenant_id=wolong.id, name="张科普",
                  unit_name="卧龙区第一中学", subject_published=True)  # fmt: skip
    act(prov, showcase.add_item, store, person)
    with pytest.raises(AlreadyExists):
        act(prov, showcase.add_item, store, person)
    assert public(db).items == []  # drafts stay the owner's
    published = act(prov, showcase.publish, scheme.id)
    assert [i.name for i in published] == ["南阳市科协", "张科普"]
    assert all(i.published_at is not None for i in published)
    view = public(db)
    assert [(i.name, i.unit_name) for i in view.items] == [
        ("南阳市科协", ""), ("张科普", "卧龙区第一中学"),
    ]  # fmt: skip
    assert view.years == [scheme.year] and view.owners[prov.path] == "河南省科协"
    with system(db) as s:
        photo_item, content = showcase.public_photo(s, store, honoured.id)
    assert content == PNG and photo_item.photo_type == "image/png"
    with pytest.raises(Conflict):
        act(prov, showcase.publish, scheme.id)  # nothing new to publish
    with system(db) as s:
        blobs = s.execute(
            text("SELECT payload FROM outbox WHERE type = 'assessment.showcase.published'")
        ).scalars().all()  # fmt: skip
    changes = []
    for blob in blobs:
        env, msg = envelope_pb2.EventEnvelope.FromString(bytes(blob)), pb.ShowcaseChanged()
        env.payload.Unpack(msg)
        changes.append((msg.scheme_id, len(msg.item_ids)))
    assert changes == [(scheme.id, 2)]  # one event, in the publishing transaction


def test_a_removed_item_leaves_the_public_page(act, tree, scheme, store, db):
    prov = tree["410000"]
    before = public(db)
    person = next(i for i in before.items if i.kind == "talent")
    act(prov, showcase.remove_item, scheme.id, person.id)
    after = public(db)
    assert [i.name for i in after.items] == ["南阳市科协"]
    assert after.version != before.version


def test_bad_items_are_refused_field_by_field_and_nothing_is_written(act, tree, scheme, store, db):
    prov, wolong = tree["410000"], tree["411303"]
    before = rows(db)
    uncertified = item(scheme.id, "talent", str(uuid.uuid4()), subject_tenant_id=wolong.id,
                       name="李某", subject_published=False)  # fmt: skip
    with pytest.raises(InvalidArgument) as exc:
        act(prov, showcase.add_item, store, uncertified)
    assert "尚未通过认定" in exc.value.detail
    with pytest.raises(InvalidArgument) as exc:
        act(prov, showcase.add_item, store, item(scheme.id, "talent", "", citation="好"))
    fields = {v.field for v in exc.value.violations}
    assert fields == {"subject_id", "name", "citation"}
    assert all("\u4e00" <= v.message[0] <= "\u9fff" for v in exc.value.violations)
    disguised = item(scheme.id, "talent", str(uuid.uuid4()), subject_tenant_id=wolong.id,
                     name="王某", subject_published=True, photo=b"%PDF-1.4 not a picture",
                     photo_filename="photo.png")  # fmt: skip
    with pytest.raises(InvalidArgument) as exc:
        act(prov, showcase.add_item, store, disguised)
    assert exc.value.violations[0].field == "photo"
    assert rows(db) == before


def test_the_assessed_cities_cannot_see_or_change_the_selection(act, tree, scheme, store):
    ny, wolong = tree["411300"], tree["411303"]
    for node in (ny, wolong):  # they see the published ranking, not the owner's drafts
        with pytest.raises(PermissionDenied):
            act(node, showcase.list_items, scheme.id)
        with pytest.raises(PermissionDenied):
            act(node, showcase.add_item, store, item(scheme.id, subject=ny.id))
    with pytest.raises(NotFound):
        act(tree["410000"], showcase.remove_item, scheme.id, str(uuid.uuid4()))
