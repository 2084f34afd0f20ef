"""A resource published in the projects service's library (projects.resource.published,
consumed here) pre-fills 资源开发数量 in its owner's brief of that month and in the annual
summary; a redelivered event counts once, another month's brief and another tenant's do not."""

from __future__ import annotations

import uuid

from google.protobuf import any_pb2
from kepu.events.v1 import envelope_pb2
from kepu.projects.v1 import resources_pb2
from kepu_common.db import Scope
from kepu_reporting import consumers, service
from reporting_testkit import sh


def published(node, day: str) -> envelope_pb2.EventEnvelope:
    msg = resources_pb2.ResourcePublished(
        resource_id=str(uuid.uuid4()), tenant_id=node.id, tenant_path=node.path, kind="挂图",
        title="防汛避险挂图", month=day[:7], year=int(day[:4]), date=day,
    )  # fmt: skip
    payload = any_pb2.Any()
    payload.Pack(msg)
    return envelope_pb2.EventEnvelope(
        event_id=str(uuid.uuid4()), type=consumers.RESOURCE_PUBLISHED, tenant_id=node.id,
        tenant_path=node.path, payload=payload,
    )  # fmt: skip


def consume(db, env):
    with db.unit_of_work(Scope.system_scope()) as s:
        consumers.handle_project_event(s, env)


def test_a_published_resource_fills_the_brief_of_its_month(db, tree, clock, act):
    town, other = tree["411303001"], tree["411303002"]
    first = published(town, "2026-10-12")
    consume(db, first)
    consume(db, first)  # redelivered
    consume(db, published(town, "2026-10-30"))
    consume(db, published(town, "2026-09-30"))
    clock.set(sh(2026, 11, 2, 9))
    view = act(town, service.get_report, "monthly_brief", "2026-10")
    assert view.prefilled and view.values["resources"] == 2
    assert act(town, service.get_report, "monthly_brief", "2026-09").values["resources"] == 1
    assert act(other, service.get_report, "monthly_brief", "2026-10").values["resources"] == 0
