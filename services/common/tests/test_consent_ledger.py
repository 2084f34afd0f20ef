"""The consent ledger (PIPL art. 23) as talent and projects use it, on a subject table of its
own: a new consent replaces the open one for the same partner, revoked or expired consents are
not live, a sibling tenant sees none of them, and the province-wide read of ``scope_within``
puts the caller's scope back."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from kepu_common.consent import ConsentLedger
from kepu_common.db import Scope, scope_within
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError

LEDGER = ConsentLedger("subject_consents", "subject_id", "subjects")
NANYANG = "410000.411300"
WOLONG = "410000.411300.411303"
KAIFENG = "410000.410200"
NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def subject(db, path: str) -> str:
    sid = str(uuid.uuid4())
    with db.unit_of_work(Scope.system_scope()) as s:
        s.execute(
            text(
                "INSERT INTO subjects (id, tenant_path) VALUES (CAST(:i AS uuid), text2ltree(:p))"
            ),
            {"i": sid, "p": path},
        )
    return sid


def grant(db, sid: str, partner: str, *, by_path: str = WOLONG, days: int = 365) -> str:
    cid = str(uuid.uuid4())
    with db.unit_of_work(Scope.tenant(by_path)) as s:
        LEDGER.grant(
            s,
            consent_id=cid,
            subject_id=sid,
            tenant_path=WOLONG,
            partner_client_id=partner,
            partner_tenant_path=NANYANG,
            purpose="银会合作融资服务",
            expires_at=NOW + timedelta(days=days),
            by="admin-411303",
            username="卧龙区管理员",
            now=NOW,
        )
    return cid


def consents(db, sid: str, path: str = WOLONG, now: datetime = NOW) -> dict[str, bool]:
    with db.unit_of_work(Scope.tenant(path)) as s:
        return {r.id: r.live for r in LEDGER.of_subject(s, path, sid, now)}


def test_a_new_consent_for_the_same_partner_replaces_the_open_one(db):
    sid = subject(db, WOLONG)
    first = grant(db, sid, "bank-a")
    other = grant(db, sid, "bank-b")
    second = grant(db, sid, "bank-a")
    assert consents(db, sid) == {first: False, other: True, second: True}
    with db.unit_of_work(Scope.tenant(WOLONG)) as s:
        replaced = LEDGER.get(s, WOLONG, sid, first, NOW)
    assert replaced.revoked_by == "卧龙区管理员（新授权替代）"


def test_revoked_and_expired_consents_are_not_live(db):
    sid = subject(db, WOLONG)
    kept, gone = grant(db, sid, "bank-a", days=30), grant(db, sid, "bank-b")
    with db.unit_of_work(Scope.tenant(NANYANG)) as s:  # an ancestor admin withdraws one
        LEDGER.revoke(s, gone, "南阳市管理员", NOW)
    assert consents(db, sid) == {kept: True, gone: False}
    assert consents(db, sid, now=NOW + timedelta(days=31)) == {kept: False, gone: False}


def test_a_sibling_tenant_sees_no_consent_and_cannot_record_one(db):
    sid = subject(db, WOLONG)
    grant(db, sid, "bank-a")
    assert consents(db, sid, KAIFENG) == {}
    with db.unit_of_work(Scope.tenant(KAIFENG)) as s:
        assert LEDGER.of_subject(s, WOLONG, sid, NOW) == []  # RLS, whatever the filter says
    with pytest.raises(ProgrammingError, match="row-level security"):
        grant(db, sid, "bank-c", by_path=KAIFENG)


def test_a_read_across_tenants_inside_a_transaction_puts_the_scope_back(db):
    theirs = subject(db, KAIFENG)
    with db.unit_of_work(Scope.tenant(WOLONG)) as s:
        count = "SELECT count(*) FROM subjects WHERE id = CAST(:i AS uuid)"
        with scope_within(s, Scope.system_scope()):
            assert s.execute(text(count), {"i": theirs}).scalar_one() == 1
        assert s.execute(text(count), {"i": theirs}).scalar_one() == 0
        assert s.execute(text("SELECT current_setting('app.tenant_path')")).scalar_one() == WOLONG
