"""Event handlers (idempotent through ``kepu_common.consumer``): the tenants read model and the
per-tenant, per-year counters that automatic indicators are scored from."""

from __future__ import annotations

import importlib
import logging
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from google.protobuf import symbol_database
from google.protobuf.message import Message
from kepu.events.v1 import envelope_pb2
from kepu.reporting.v1 import reporting_pb2, stations_pb2
from kepu.talent.v1 import talent_pb2
from kepu_common import directory
from sqlalchemy.orm import Session

from . import repository as repo

log = logging.getLogger(__name__)
SH = ZoneInfo("Asia/Shanghai")

TENANTS_CONSUMER = "assessment.tenants"
METRICS_CONSUMER = "assessment.metrics"
METRIC_TOPICS = ["talent.events", "reporting.events", "projects.events"]
TENANT_CHANGED = directory.TENANT_CHANGED
CERTIFIED = "certified"
PROJECT_EVENTS = {
    "projects.project.approved": "projects_approved",
    "projects.project.completed": "projects_completed",
}
RESOURCE_PUBLISHED = "projects.resource.published"  # 科普资源库: one resource developed


# Keeps the tenants table (names, kinds, tree) in step with the identity service.
handle_identity_event = directory.tenants_handler()


def event_year(envelope: envelope_pb2.EventEnvelope) -> int:
    """The calendar year (Asia/Shanghai) in which the event happened."""
    if envelope.HasField("occurred_at"):
        return envelope.occurred_at.ToDatetime(tzinfo=UTC).astimezone(SH).year
    return datetime.now(SH).year


def handle_metric_event(session: Session, envelope: envelope_pb2.EventEnvelope) -> None:
    """Talent certifications, reports submitted and overdue, activities, projects, e站 and
    their denominators -> counters."""
    kind = envelope.type
    if kind.startswith("talent."):
        _talent(session, envelope)
    elif kind == "reporting.report.submitted":
        _report(session, envelope)
    elif kind == "reporting.report.overdue":
        _overdue(session, envelope)
    elif kind == "reporting.activity.recorded":
        _activity(session, envelope)
    elif kind.startswith("reporting.station."):
        _station(session, envelope)
    elif kind == "reporting.coverage.denominators_set":
        _denominators(session, envelope)
    elif kind in PROJECT_EVENTS:
        _project(session, envelope, PROJECT_EVENTS[kind])
    elif kind == RESOURCE_PUBLISHED:
        _resource(session, envelope)


def _talent(s: Session, env: envelope_pb2.EventEnvelope) -> None:
    if not env.payload.Is(talent_pb2.TalentStatusChanged.DESCRIPTOR):
        return
    msg = talent_pb2.TalentStatusChanged()
    env.payload.Unpack(msg)
    if CERTIFIED not in (msg.to_status, msg.from_status):
        return
    repo.record_fact(
        s,
        metric="talents_certified",
        subject_id=msg.talent_id,
        tenant_id=msg.tenant_id or env.tenant_id,
        tenant_path=msg.tenant_path or env.tenant_path,
        year=event_year(env),
        value=1.0 if msg.to_status == CERTIFIED else 0.0,
    )


def _report(s: Session, env: envelope_pb2.EventEnvelope) -> None:
    msg = reporting_pb2.ReportSubmitted()
    env.payload.Unpack(msg)
    try:
        year = int(msg.period[:4])
    except ValueError:
        log.warning("report %s has no year in period %r; ignored", msg.report_id, msg.period)
        return
    where = {"tenant_id": msg.tenant_id or env.tenant_id, "tenant_path": env.tenant_path}
    # A report returned and submitted again still counts once, with its first timeliness.
    repo.record_fact(
        s, metric="reports_submitted", subject_id=msg.report_id, year=year, value=1.0, **where
    )
    due = _due_subject(msg.type_code, msg.period, where["tenant_id"])
    repo.record_fact(s, metric="reports_due", subject_id=due, year=year, value=1.0, **where)
    repo.record_fact(
        s, metric="reports_on_time", subject_id=msg.report_id, year=year,
        value=1.0 if msg.on_time else 0.0, **where,
    )  # fmt: skip


def _due_subject(type_code: str, period: str, tenant_id: str) -> str:
    """One report due per tenant, type and period, whether it was filed or fell overdue."""
    return f"{type_code}:{period}:{tenant_id}"


def _overdue(s: Session, env: envelope_pb2.EventEnvelope) -> None:
    """A report that fell due unfiled still counts as due (按时报送率 of what is due)."""
    msg = reporting_pb2.ReportOverdue()
    env.payload.Unpack(msg)
    try:
        year = int(msg.period[:4])
    except ValueError:
        log.warning("overdue %s has no year in period %r; ignored", msg.type_code, msg.period)
        return
    tenant_id = msg.tenant_id or env.tenant_id
    repo.record_fact(
        s, metric="reports_due", subject_id=_due_subject(msg.type_code, msg.period, tenant_id),
        tenant_id=tenant_id, tenant_path=env.tenant_path, year=year, value=1.0,
    )  # fmt: skip


def _activity(s: Session, env: envelope_pb2.EventEnvelope) -> None:
    msg = reporting_pb2.ActivityRecorded()
    env.payload.Unpack(msg)
    try:
        year = int(msg.date[:4])
    except ValueError:
        year = event_year(env)
    where = {"tenant_id": msg.tenant_id or env.tenant_id, "tenant_path": env.tenant_path}
    repo.record_fact(
        s, metric="activities", subject_id=msg.activity_id, year=year, value=1.0, **where
    )
    repo.record_fact(
        s, metric="participants", subject_id=msg.activity_id, year=year,
        value=float(max(msg.participants, 0)), **where,
    )  # fmt: skip


def _station(s: Session, env: envelope_pb2.EventEnvelope) -> None:
    """A certified e站 counts from the year of its 认定 until suspended or withdrawn."""
    msg = stations_pb2.StationChanged()
    if not env.payload.Unpack(msg) or not msg.kind:
        return
    repo.record_fact(
        s, metric=f"estations_{msg.kind}", subject_id=msg.station_id,
        tenant_id=msg.tenant_id or env.tenant_id, tenant_path=msg.tenant_path or env.tenant_path,
        year=event_year(env), value=1.0 if msg.to_status == CERTIFIED else 0.0,
    )  # fmt: skip


def _denominators(s: Session, env: envelope_pb2.EventEnvelope) -> None:
    """The year's numbers of communities, schools and villages (the coverage denominators)."""
    msg = stations_pb2.DenominatorsSet()
    if not env.payload.Unpack(msg):
        return
    for metric in ("communities", "schools", "villages"):
        repo.record_fact(
            s, metric=metric, subject_id=f"{metric}:{msg.tenant_id}:{msg.year}",
            tenant_id=msg.tenant_id, tenant_path=msg.tenant_path or env.tenant_path,
            year=msg.year, value=float(getattr(msg, metric)),
        )  # fmt: skip


def _project(s: Session, env: envelope_pb2.EventEnvelope, metric: str) -> None:
    payload = _project_payload(env)
    project_id = str(payload.get("project_id") or payload.get("id") or "")
    given = payload.get("year")
    year = given if isinstance(given, int) and given > 0 else event_year(env)
    repo.record_fact(
        s,
        metric=metric,
        subject_id=project_id or env.event_id,
        tenant_id=env.tenant_id,
        tenant_path=env.tenant_path,
        year=year,
        value=1.0,
    )


def _resource(s: Session, env: envelope_pb2.EventEnvelope) -> None:
    """A resource published in the library counts for its owner in its year (the payload's
    resource id makes a redelivery count once)."""
    payload = _project_payload(env, "kepu.projects.v1.resources_pb2", ("resource_id", "year"))
    given = payload.get("year")
    repo.record_fact(
        s, metric="resources_published",
        subject_id=str(payload.get("resource_id") or env.event_id), tenant_id=env.tenant_id,
        tenant_path=env.tenant_path,
        year=given if isinstance(given, int) and given > 0 else event_year(env), value=1.0,
    )  # fmt: skip


def _project_payload(
    env: envelope_pb2.EventEnvelope,
    module: str = "kepu.projects.v1.projects_pb2",
    fields: tuple[str, ...] = ("project_id", "id", "year"),
) -> dict[str, object]:
    """Fields of the payload when the projects proto is installed (read by name, so this
    service does not depend on it): the project's id makes an approval published twice
    under two event ids count once, and its year is the year it counts for."""
    try:
        importlib.import_module(module)
        cls = symbol_database.Default().GetSymbol(env.payload.TypeName())
    except (ImportError, KeyError):
        return {}
    msg: Message = cls()
    if not env.payload.Unpack(msg):
        return {}
    names = msg.DESCRIPTOR.fields_by_name
    return {f: getattr(msg, f) for f in fields if f in names}
