"""Helpers of the assessment tests: a small Henan tree fed through the tenants consumer, and
events built like the talent and reporting services publish them."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from google.protobuf.message import Message
from kepu.events.v1 import envelope_pb2
from kepu.reporting.v1 import reporting_pb2
from kepu.talent.v1 import talent_pb2
from kepu_assessment import consumers
from kepu_common.consumer import handle_once
from kepu_common.db import Database, Scope
from kepu_common.outbox import build_envelope
from kepu_devstack.tenant_tree import Node, Tree, TreeRows
from kepu_devstack.tenant_tree import feed_tree as shared_feed_tree

MIGRATIONS = Path(__file__).parents[1] / "src" / "kepu_assessment" / "migrations"

# code, name, kind, parent code
TREE = [
    ("410000", "河南省科协", "province", None),
    ("411300", "南阳市科协", "city", "410000"),
    ("410200", "开封市科协", "city", "410000"),
    ("419001", "济源示范区科协", "city", "410000"),
    ("411303", "卧龙区科协", "county", "411300"),
    ("411302", "宛城区科协", "county", "411300"),
    ("411303001", "七一乡科协", "township", "411303"),
    ("410202", "龙亭区科协", "county", "410200"),
]


def feed_tree(db: Database, rows: TreeRows = TREE) -> Tree:
    return shared_feed_tree(
        db, rows, consumer=consumers.TENANTS_CONSUMER, handler=consumers.handle_identity_event
    )


def envelope(node: Node, event_type: str, payload: Message) -> envelope_pb2.EventEnvelope:
    return build_envelope(
        event_type=event_type, tenant_id=node.id, tenant_path=node.path, actor="test",
        payload=payload,
    )  # fmt: skip


def certified(node: Node, talent_id: str | None = None, *, revoke: bool = False) -> Any:
    frm, to = ("certified", "revoked") if revoke else ("city_reviewed", "certified")
    return envelope(
        node,
        "talent.revoked" if revoke else "talent.certified",
        talent_pb2.TalentStatusChanged(
            talent_id=talent_id or str(uuid.uuid4()), tenant_id=node.id, tenant_path=node.path,
            from_status=frm, to_status=to,
        ),
    )  # fmt: skip


def submitted(node: Node, period: str, *, on_time: bool, report_id: str | None = None) -> Any:
    return envelope(
        node,
        "reporting.report.submitted",
        reporting_pb2.ReportSubmitted(
            report_id=report_id or str(uuid.uuid4()), type_code="monthly_brief", period=period,
            tenant_id=node.id, on_time=on_time,
        ),
    )  # fmt: skip


def overdue(node: Node, period: str) -> Any:
    """What the reporting service says when a deadline passed without a submission."""
    return envelope(
        node,
        "reporting.report.overdue",
        reporting_pb2.ReportOverdue(
            type_code="monthly_brief", period=period, tenant_id=node.id, deadline=f"{period}-28"
        ),
    )


def activity(node: Node, day: str, participants: int) -> Any:
    return envelope(
        node,
        "reporting.activity.recorded",
        reporting_pb2.ActivityRecorded(
            activity_id=str(uuid.uuid4()), tenant_id=node.id, title="科普讲座", date=day,
            form="讲座", target="进社区", participants=participants,
        ),
    )  # fmt: skip


def feed(db: Database, *envelopes: Any) -> int:
    """Deliver events to the metrics consumer; returns how many were applied."""
    return sum(
        handle_once(db, consumers.METRICS_CONSUMER, e, consumers.handle_metric_event)
        for e in envelopes
    )


def system(db: Database) -> Any:
    return db.unit_of_work(Scope.system_scope())


# A province scheme over the cities: talents vs quota, activities, timeliness, a manual item and
# the science-literacy survey value (公民科学素质比例, target 9.38%).
PROVINCE_SCHEME: dict[str, Any] = {
    "year": 2026,
    "name": "2026年度百千万科普工程考核",
    "honours_top_n": 1,
    "indicators": [
        {"code": "1", "name": "科普人才认定", "weight": 30, "kind": "automatic",
         "metric": "talents_certified", "rule": "linear", "target": 4},
        {"code": "2", "name": "科普活动开展", "weight": 20, "kind": "automatic",
         "metric": "activities", "rule": "threshold", "target": 2},
        {"code": "3", "name": "报告按时报送率", "weight": 20, "kind": "automatic",
         "metric": "report_timeliness", "rule": "linear", "target": 100, "unit": "%"},
        {"code": "4", "name": "组织领导", "weight": 20, "kind": "manual"},
        {"code": "5", "name": "公民科学素质比例", "weight": 10, "kind": "value",
         "rule": "threshold", "target": 9.38, "unit": "%"},
    ],
}  # fmt: skip
