"""Event handlers of the talent service (idempotent through ``kepu_common.consumer``)."""

from __future__ import annotations

import logging

from kepu.assessment.v1 import assessment_pb2
from kepu.events.v1 import envelope_pb2
from kepu_common import directory
from sqlalchemy.orm import Session

from . import repository

log = logging.getLogger(__name__)

CONSUMER = "talent.tenants"
TOPICS = [directory.IDENTITY_TOPIC]
PATH_COLUMN = "path"  # this service's tenants table names its ltree column "path"

QUOTAS_CONSUMER = "talent.quotas"
QUOTA_TOPICS = ["assessment.events"]
ALLOCATION_SET = "assessment.allocation.set"
TALENT_METRIC = "talents_certified"

# The tenants read model (names, kinds, paths, plus this service's talent_quota column).
on_identity_event = directory.tenants_handler(path_column=PATH_COLUMN)


def on_assessment_event(s: Session, envelope: envelope_pb2.EventEnvelope) -> None:
    """An assessment allocation (任务指标分配, 附表1) of certified talents is the children's
    talent quota (人才指标): the latest allocation sets it."""
    if envelope.type != ALLOCATION_SET:
        return
    msg = assessment_pb2.AllocationSet()
    if not envelope.payload.Unpack(msg) or msg.metric != TALENT_METRIC:
        return
    for q in msg.quotas:
        child = repository.tenant_by_id(s, q.tenant_id)
        # only the allocating tenant's own children (the envelope names the scheme's owner)
        if child is None or child.path.rsplit(".", 1)[0] != envelope.tenant_path:
            log.warning("allocation %s: %s is not a child of its owner", msg.scheme_id, q.tenant_id)
            continue
        repository.set_quota(s, q.tenant_id, max(0, round(q.quota)))
