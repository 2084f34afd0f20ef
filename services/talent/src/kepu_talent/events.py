"""Talent's event stream: every state change writes its event into the outbox in the same
transaction (``kepu_common.outbox``); the relay publishes them to ``TOPIC``."""

from __future__ import annotations

from typing import Any

from google.protobuf.message import Message
from kepu_common import outbox
from kepu_common.tenancy import Principal
from sqlalchemy.orm import Session

TOPIC = "talent.events"  # talent's event stream, relayed from the outbox


def record(
    s: Session, p: Principal, tenant_id: str, tenant_path: str, event_type: str, payload: Message
) -> None:
    """An event of the talent pool, owned by the tenant at ``tenant_path``."""
    outbox.record_event(
        s,
        topic=TOPIC,
        event_type=event_type,
        tenant_id=tenant_id,
        tenant_path=tenant_path,
        actor=p.subject,
        payload=payload,
    )


def record_for(s: Session, p: Principal, row: Any, event_type: str, payload: Message) -> None:
    """An event about a talent row (``tenant_id``, ``tenant_path``)."""
    record(s, p, str(row.tenant_id), row.tenant_path, event_type, payload)
