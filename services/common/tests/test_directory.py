"""The tenants read-model mechanism: which events it takes and what it refuses to write."""

from __future__ import annotations

import pytest
from kepu.events.v1 import envelope_pb2
from kepu_common import directory
from kepu_common.outbox import build_envelope


def _changed(path: str, *, parent_id: str = "", status: str = "") -> envelope_pb2.EventEnvelope:
    return build_envelope(
        event_type=directory.TENANT_CHANGED,
        tenant_id="00000000-0000-0000-0000-000000000001",
        tenant_path=path,
        actor="system",
        payload=envelope_pb2.TenantChanged(
            tenant_id="00000000-0000-0000-0000-000000000001",
            code=path.rsplit(".", 1)[-1],
            name="南阳市",
            kind="city",
            parent_id=parent_id,
            path=path,
            status=status,
        ),
    )


def test_a_tenant_change_defaults_status_and_an_empty_parent():
    change = directory.tenant_change(_changed("410000.411300"))
    assert change == directory.TenantChange(
        id="00000000-0000-0000-0000-000000000001",
        code="411300",
        name="南阳市",
        kind="city",
        parent_id=None,
        path="410000.411300",
        status="active",
    )


def test_other_events_are_not_tenant_changes():
    other = _changed("410000.411300")
    other.type = "identity.user.created"
    assert directory.tenant_change(other) is None


def test_a_malformed_path_is_refused_so_the_event_is_retried_then_dead_lettered():
    with pytest.raises(ValueError, match="invalid tenant path"):
        directory.tenant_change(_changed("410000;DROP TABLE tenants"))


def test_only_known_path_columns_reach_the_sql():
    change = directory.tenant_change(_changed("410000.411300"))
    assert change is not None
    with pytest.raises(ValueError, match="unknown tenants path column"):
        directory.upsert_tenant(None, change, path_column="path; --")  # type: ignore[arg-type]
