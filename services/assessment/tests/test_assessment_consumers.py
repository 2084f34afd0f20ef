"""The read model: events from talent, reporting and projects become per-tenant, per-year
counters exactly once, whatever the broker redelivers."""

from __future__ import annotations

import uuid

import pytest
from assessment_testkit import activity, certified, envelope, feed, overdue, submitted, system
from kepu.events.v1 import envelope_pb2
from kepu_assessment import consumers, repository
from sqlalchemy import text


def counters(db, node, year=2026):
    with system(db) as s:
        rows = s.execute(
            text(
                "SELECT metric, value FROM metric_counters WHERE tenant_id = CAST(:t AS uuid)"
                " AND year = :y"
            ),
            {"t": node.id, "y": year},
        ).all()
    return {m: v for m, v in rows}


def test_the_same_event_twice_counts_once(db, tree):
    node = tree["411302"]
    event = certified(node)
    assert feed(db, event, event) == 1
    act = activity(node, "2026-06-01", 70)
    assert feed(db, act, act) == 1
    assert counters(db, node) == {"talents_certified": 1, "activities": 1, "participants": 70}


def test_a_revoked_talent_no_longer_counts(db, tree):
    node = tree["410202"]
    tid = str(uuid.uuid4())
    feed(db, certified(node, tid), certified(node, str(uuid.uuid4())))
    feed(db, certified(node, tid, revoke=True))
    # the same talent certified again under a new event id is still one talent
    feed(db, certified(node, tid), certified(node, tid))
    assert counters(db, node)["talents_certified"] == 2


def test_a_report_resubmitted_after_return_counts_once(db, tree):
    node = tree["419001"]
    rid = str(uuid.uuid4())
    feed(db, submitted(node, "2026-03", on_time=False, report_id=rid))
    feed(db, submitted(node, "2026-03", on_time=False, report_id=rid))
    feed(db, submitted(node, "2026-04", on_time=True))
    assert counters(db, node) == {"reports_submitted": 2, "reports_on_time": 1, "reports_due": 2}


def test_a_report_that_fell_overdue_is_due_once_whether_filed_later_or_not(db, tree):
    node = tree["410200"]
    feed(db, overdue(node, "2026-05"), overdue(node, "2026-06"))
    feed(db, submitted(node, "2026-05", on_time=False))  # filed late: still one report due
    assert counters(db, node) == {"reports_submitted": 1, "reports_due": 2}  # none on time


def test_project_events_count_without_the_projects_proto(db, tree):
    node = tree["411303001"]
    e1 = envelope(node, "projects.project.approved", envelope_pb2.AuditRecorded(action="x"))
    e2 = envelope(node, "projects.project.completed", envelope_pb2.AuditRecorded(action="x"))
    other = envelope(node, "projects.project.submitted", envelope_pb2.AuditRecorded(action="x"))
    assert feed(db, e1, e2, other, e1) == 3
    assert counters(db, node) == {"projects_approved": 1, "projects_completed": 1}


def test_counters_roll_up_by_child_subtree_with_talents_cumulative(db, tree):
    prov, ny = tree["410000"], tree["411300"]
    old = certified(tree["411303"])
    old.occurred_at.FromJsonString("2025-06-01T00:00:00Z")
    feed(db, old, activity(tree["411303"], "2025-06-01", 10))
    with system(db) as s:
        rolled = repository.subtree_counters(s, prov.path, 2026, ["talents_certified"])
        past = repository.subtree_counters(s, prov.path, 2025, ["talents_certified"])
    # 2025's certification still counts in 2026 (talent pool); 2025's activity does not
    assert rolled[ny.path]["talents_certified"] == 2  # 宛城 2026 + 卧龙 2025
    assert rolled[ny.path]["activities"] == 1  # 宛城's 2026 activity only
    assert past[ny.path]["talents_certified"] == 1
    assert consumers.event_year(old) == 2025


def test_a_project_approval_published_twice_counts_once(db, tree):
    projects_pb2 = pytest.importorskip("kepu.projects.v1.projects_pb2")
    node = tree["411302"]
    pid = str(uuid.uuid4())

    def approved():
        return envelope(
            node,
            "projects.project.approved",
            projects_pb2.ProjectEvent(project_id=pid, tenant_id=node.id, year=2025),
        )

    assert feed(db, approved(), approved()) == 2  # two event ids, one project
    assert counters(db, node, 2025) == {"projects_approved": 1}


def test_a_resource_published_in_the_library_counts_once_in_its_year(db, tree):
    resources_pb2 = pytest.importorskip("kepu.projects.v1.resources_pb2")
    node = tree["410202"]
    rid = str(uuid.uuid4())

    def published():
        return envelope(
            node,
            "projects.resource.published",
            resources_pb2.ResourcePublished(resource_id=rid, tenant_id=node.id, year=2025),
        )

    assert feed(db, published(), published()) == 2  # redelivered under a new event id
    assert counters(db, node, 2025) == {"resources_published": 1}
