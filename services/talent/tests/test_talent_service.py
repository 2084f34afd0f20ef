"""The talent pool on the real database: records, the review chain, tenancy, personal data."""

import pytest
from kepu.talent.v1 import talent_pb2
from kepu_common.db import Scope
from kepu_common.errors import AlreadyExists, Conflict, InvalidArgument, NotFound, PermissionDenied
from sqlalchemy import text
from talent_support import (
    KAIFENG,
    LONGTING,
    NANYANG,
    PROVINCE,
    QILIYUAN,
    TENANT_IDS,
    WANCHENG,
    WOLONG,
    fresh_id_number,
    fresh_phone,
    record,
    who,
)


def certified(app, **overrides):
    t = app.talents.create(who(WOLONG), record(**overrides))
    app.talents.recommend(who(WOLONG), t["id"], "同意推荐")
    app.talents.review(who(NANYANG, "reviewer"), t["id"], "approve", "同意")
    return app.talents.review(who(PROVINCE), t["id"], "approve", "")


def test_a_county_records_a_talent_with_masked_personal_data(app, database):
    phone = fresh_phone()
    t = app.talents.create(
        who(WOLONG, "reporter"), record(phone=phone, id_number="11010519491231002X")
    )
    assert t["status"] == "draft" and t["tenant_name"] == "卧龙区科协"
    assert t["fields"]["phone"] == phone[:3] + "****" + phone[-4:]
    assert t["fields"]["id_number"] == "110105********002X"
    with database.unit_of_work(Scope.system_scope()) as s:
        raw = s.execute(
            text("SELECT phone_enc FROM talents WHERE id = :i"), {"i": t["id"]}
        ).scalar()
    assert phone.encode() not in bytes(raw)


def test_the_full_chain_certifies_with_a_number_and_history(app, database):
    t = certified(app)
    assert t["status"] == "certified"
    assert t["certificate_no"].startswith("KP410000-")
    assert [h["step"] for h in t["history"]] == ["recommend", "city_opinion", "province_review"]
    assert t["history"][1]["actor_tenant_path"] == NANYANG
    assert t["recommend_opinion"] == "同意推荐" and t["city_opinion"] == "同意"
    with database.unit_of_work(Scope.system_scope()) as s:
        types = (
            s.execute(text("SELECT type FROM outbox WHERE payload IS NOT NULL ORDER BY id"))
            .scalars()
            .all()
        )
    assert {
        "talent.created",
        "talent.recommended",
        "talent.city_reviewed",
        "talent.certified",
    } <= set(types)


def test_a_county_trying_to_review_is_refused(app):
    t = app.talents.create(who(WOLONG), record())
    app.talents.recommend(who(WOLONG), t["id"], "同意推荐")
    with pytest.raises(PermissionDenied):
        app.talents.review(who(WOLONG), t["id"], "approve", "自己审核")


def test_the_province_cannot_review_before_the_city_gives_its_opinion(app):
    t = app.talents.create(who(WOLONG), record())
    app.talents.recommend(who(WOLONG), t["id"], "同意推荐")
    with pytest.raises(Conflict, match="省辖市科协"):
        app.talents.review(who(PROVINCE), t["id"], "approve", "")


def test_a_sibling_city_can_neither_read_nor_review_a_talent(app):
    t = app.talents.create(who(WOLONG), record())
    app.talents.recommend(who(WOLONG), t["id"], "同意推荐")
    with pytest.raises(NotFound):
        app.talents.get(who(KAIFENG), t["id"])
    with pytest.raises(NotFound):
        app.talents.review(who(KAIFENG, "reviewer"), t["id"], "approve", "同意")
    assert app.talents.get(who(WOLONG), t["id"])["status"] == "recommended"
    listed = app.talents.search(who(KAIFENG), q=t["fields"]["name"])
    assert all(x["id"] != t["id"] for x in listed["talents"])


def test_a_sibling_county_cannot_recommend_or_edit(app):
    t = app.talents.create(who(WOLONG), record())
    with pytest.raises(NotFound):
        app.talents.recommend(who(WANCHENG), t["id"], "同意推荐")
    with pytest.raises(NotFound):
        app.talents.update(who(WANCHENG), t["id"], record())


def test_a_township_talent_is_recommended_by_the_county_not_the_township(app):
    t = app.talents.create(who(QILIYUAN, "reporter"), record())
    with pytest.raises(PermissionDenied):
        app.talents.recommend(who(QILIYUAN), t["id"], "同意推荐")
    assert app.talents.recommend(who(WOLONG), t["id"], "同意推荐")["status"] == "recommended"


def test_a_city_cannot_own_talents(app):
    with pytest.raises(PermissionDenied):
        app.talents.create(who(NANYANG), record())


def test_the_same_person_cannot_be_recorded_twice_in_the_province(app):
    phone = fresh_phone()
    app.talents.create(who(WOLONG), record(name="李娜", phone=phone))
    with pytest.raises(AlreadyExists, match="全省"):
        app.talents.create(who(LONGTING), record(name="李 娜", phone=phone))
    number = fresh_id_number()
    app.talents.create(who(WOLONG), record(id_number=number))
    with pytest.raises(AlreadyExists, match="身份证号"):
        app.talents.create(who(LONGTING), record(name="另一人", id_number=number.lower()))


def test_bad_fields_are_explained_in_chinese(app):
    with pytest.raises(InvalidArgument, match="联系电话.*格式不正确"):
        app.talents.create(who(WOLONG), record(phone="12345"))
    with pytest.raises(InvalidArgument, match="民族"):
        app.talents.create(who(WOLONG), record(ethnicity="火星"))


def test_revealing_personal_data_needs_a_role_and_is_audited(app, database):
    phone = fresh_phone()
    t = app.talents.create(who(WOLONG), record(phone=phone))
    with pytest.raises(PermissionDenied):
        app.talents.get(who(NANYANG, "viewer"), t["id"], reveal=True)
    full = app.talents.get(
        who(NANYANG, "reviewer", username="nanyang-reviewer"), t["id"], reveal=True
    )
    assert full["fields"]["phone"] == phone and full["revealed"]
    with database.unit_of_work(Scope.system_scope()) as s:
        audit = s.execute(
            text("SELECT actor_username, fields FROM talent_reveals WHERE talent_id = :i"),
            {"i": t["id"]},
        ).all()
        event = s.execute(
            text(
                "SELECT payload FROM outbox WHERE type = 'talent.personal_data_revealed'"
                " ORDER BY id DESC LIMIT 1"
            )
        ).scalar()
    assert audit == [("nanyang-reviewer", ["phone", "email", "im_account", "id_number"])]
    assert event is not None


def test_search_by_chinese_name_specialty_category_and_region(app):
    app.talents.create(
        who(WANCHENG), record(name="欧阳明远", specialty="中医药养生", categories=["社区科普"])
    )
    me = who(NANYANG)
    assert [t["fields"]["name"] for t in app.talents.search(me, q="欧阳明")["talents"]] == [
        "欧阳明远"
    ]
    assert app.talents.search(me, specialty="中医药", category="社区科普")["total"] == 1
    assert app.talents.search(me, q="欧阳", tenant_id=TENANT_IDS[WOLONG])["total"] == 0
    page = app.talents.search(me, page=1, page_size=2)
    assert len(page["talents"]) == 2 and page["total"] > 2
    assert "****" in page["talents"][0]["fields"]["phone"]


def test_bulk_review_reports_each_record(app):
    ready = app.talents.create(who(WOLONG), record())
    app.talents.recommend(who(WOLONG), ready["id"], "同意推荐")
    draft = app.talents.create(who(WOLONG), record())
    other_city = app.talents.create(who(LONGTING), record())
    results = app.talents.bulk_review(
        who(NANYANG, "reviewer"),
        [ready["id"], draft["id"], other_city["id"], "not-an-id"],
        "approve",
        "同意",
    )
    by_id = {r["id"]: r for r in results}
    assert by_id[ready["id"]]["ok"] and by_id[ready["id"]]["status"] == "city_reviewed"
    assert by_id[draft["id"]]["error_code"] == "FAILED_PRECONDITION"
    assert by_id[other_city["id"]]["error_code"] == "NOT_FOUND"
    assert by_id["not-an-id"]["error_code"] == "NOT_FOUND"


def test_suspend_and_revoke(app):
    t = certified(app)
    with pytest.raises(PermissionDenied):
        app.talents.change_lifecycle(who(NANYANG), t["id"], "suspend", "暂停")
    assert (
        app.talents.change_lifecycle(who(PROVINCE), t["id"], "suspend", "核查中")["status"]
        == "suspended"
    )
    assert (
        app.talents.change_lifecycle(who(PROVINCE), t["id"], "revoke", "不再符合条件")["status"]
        == "revoked"
    )
    with pytest.raises(Conflict):
        app.talents.change_lifecycle(who(PROVINCE), t["id"], "reinstate", "恢复")


def test_quota_progress_rolls_up_the_tree(app):
    before = app.talents.stats(who(NANYANG))
    certified(app)
    after = app.talents.stats(who(NANYANG))
    assert after["own"]["quota"] == 1000
    assert after["own"]["certified"] == before["own"]["certified"] + 1
    wolong = next(c for c in after["children"] if c["path"] == WOLONG)
    assert wolong["quota"] == 100 and wolong["certified"] >= 1
    province = app.talents.stats(who(PROVINCE))
    assert province["own"]["quota"] == 10000
    assert (
        next(c for c in province["children"] if c["path"] == NANYANG)["certified"]
        == after["own"]["certified"]
    )
    assert all(c["certified"] == 0 for c in province["children"] if c["path"] == KAIFENG)


def test_quota_override_by_the_city_for_its_county(app):
    app.talents.set_quota(who(NANYANG), TENANT_IDS[WANCHENG], 150)
    wancheng = next(c for c in app.talents.stats(who(NANYANG))["children"] if c["path"] == WANCHENG)
    assert wancheng["quota"] == 150
    with pytest.raises(PermissionDenied):
        app.talents.set_quota(who(WANCHENG), TENANT_IDS[WANCHENG], 10)
    with pytest.raises(NotFound):
        app.talents.set_quota(who(KAIFENG), TENANT_IDS[WANCHENG], 10)


def test_events_carry_the_status_change(app, database):
    t = certified(app)
    with database.unit_of_work(Scope.system_scope()) as s:
        payload = s.execute(
            text(
                "SELECT payload FROM outbox WHERE type = 'talent.certified'"
                " ORDER BY id DESC LIMIT 1"
            )
        ).scalar()
    from kepu.events.v1 import envelope_pb2

    env = envelope_pb2.EventEnvelope.FromString(bytes(payload))
    changed = talent_pb2.TalentStatusChanged()
    env.payload.Unpack(changed)
    assert changed.talent_id == t["id"] and changed.certificate_no == t["certificate_no"]
    assert env.tenant_path == WOLONG
