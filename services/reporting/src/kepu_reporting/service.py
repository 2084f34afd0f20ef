"""Use cases of the reporting service. Each takes the unit of work's session first (the
edge owns the transaction), applies the domain rules and writes the outbox.

Slightly over ~400 lines on purpose: the brief's use cases (save, submit, review, the
parent's view of its children with the roll-up) and the activities that pre-fill it share
the tenant and report-type helpers at the top and ``_prefill``; the contact address of the
notices is one use case. Stations are ``stations/``, the reminder worker ``reminders.py``."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from google.protobuf import struct_pb2
from kepu.reporting.v1 import reporting_pb2
from kepu_common.errors import Conflict, InvalidArgument, NotFound, PermissionDenied
from kepu_common.outbox import record_event
from kepu_common.tenancy import Principal, is_direct_child
from sqlalchemy.orm import Session

from . import domain, periods, report_types
from . import repository as repo
from .models import Activity, ChildRow, Report, Rollup, SumSource, Tenant

TOPIC = "reporting.events"
REVIEW_EVENTS = {"return": "reporting.report.returned", "accept": "reporting.report.accepted"}


# ---------------------------------------------------------------- helpers


def caller_tenant(s: Session, p: Principal) -> Tenant:
    t = repo.tenant_by_path(s, p.tenant_path)
    if t is not None:
        return t
    # Not yet in the read model: the token's claims are enough to act for oneself.
    code = p.tenant_path.rsplit(".", 1)[-1]
    return Tenant(p.tenant_id, code, code, p.tenant_kind, None, p.tenant_path, "active")


def resolve_type(s: Session, p: Principal, code: str) -> report_types.ReportType:
    if code in report_types.BUILTIN_BY_CODE:
        return report_types.BUILTIN_BY_CODE[code]
    for t in repo.custom_types(s, p.tenant_path):
        if t.code == code:
            return t
    raise NotFound(f"未找到报告类型“{code}”。")


def list_types(
    s: Session, p: Principal, now: datetime | None = None
) -> list[report_types.ReportType]:
    return list(report_types.BUILTIN_TYPES) + repo.custom_types(s, p.tenant_path)


def define_type(
    s: Session, p: Principal, now: datetime | None, data: dict[str, Any]
) -> report_types.ReportType:
    domain.check_role(p.roles, "define")
    rtype = report_types.define_type(
        code=str(data.get("code", "")),
        name=str(data.get("name", "")),
        period_kind=str(data.get("period_kind", "")),
        fields=list(data.get("fields") or []),
        due_rules=dict(data.get("due_rules") or {}),
        owner_path=p.tenant_path,
        owner_tenant_id=p.tenant_id,
    )
    if repo.type_code_taken(s, rtype.code):
        raise Conflict(f"报告类型代码“{rtype.code}”已被使用，请换一个代码。")
    repo.insert_type(s, rtype, p.subject)
    return rtype


def _struct(values: dict[str, Any]) -> struct_pb2.Struct:
    st = struct_pb2.Struct()
    st.update(values)
    return st


# ---------------------------------------------------------------- reports


@dataclass
class ReportView:
    tenant: Tenant
    rtype: report_types.ReportType
    period: periods.Period
    report: Report | None
    values: dict[str, Any]
    prefilled: bool
    deadline: date | None
    allowed_actions: list[str] = field(default_factory=list)  # for the caller, from the domain

    @property
    def status(self) -> str:
        return self.report.status if self.report else domain.NONE


def _seen_by(p: Principal, view: ReportView) -> ReportView:
    """``view`` with what ``p`` may do next with the brief (``domain.allowed_actions``)."""
    view.allowed_actions = domain.allowed_actions(
        view.status,
        p.roles,
        own=view.tenant.id == p.tenant_id,
        must_report=view.rtype.deadline(view.tenant.kind, view.period) is not None,
        direct_parent=is_direct_child(view.tenant.path, p.tenant_path),
    )
    return view


def _period(rtype: report_types.ReportType, period: str, now: datetime) -> periods.Period:
    per = periods.parse_period(period, rtype.period_kind)
    periods.ensure_not_future(per, periods.local_date(now))
    return per


def rollup(s: Session, scope_path: str, rtype: report_types.ReportType, period: str) -> Rollup:
    """The subtree's figures below ``scope_path`` by the roll-up rule (domain.SUMS_RULE),
    with the briefs they include."""
    submitted = repo.submitted_paths(s, scope_path, rtype.code, period)
    counted = domain.rollup_sources(scope_path, submitted)
    ids = [submitted[path] for path in counted]
    sources = [
        SumSource(t, rid, status, at, covers=len(counted[t.path]))
        for t, rid, status, at in repo.briefs_with_tenants(s, scope_path, ids)
    ]
    return Rollup(repo.sum_fields(s, scope_path, ids, rtype.numeric_keys), sources)


def _prefill(
    s: Session, tenant: Tenant, rtype: report_types.ReportType, per: periods.Period
) -> dict[str, Any]:
    """The tenant's own activities and published resources of the period plus its area's
    submitted figures."""
    acts = repo.list_activities(
        s, tenant.path, start=per.start, end=per.end, own_tenant_id=tenant.id, limit=100000
    )
    facts = [domain.ActivityFacts(a.form, a.participants) for a in acts]
    published = repo.count_resources(s, tenant.path, tenant.id, per.start, per.end)
    return domain.prefill(
        rtype, facts, rollup(s, tenant.path, rtype, per.code).sums, resources=published
    )


def get_report(
    s: Session, p: Principal, now: datetime, code: str, period: str, tenant_id: str = ""
) -> ReportView:
    rtype = resolve_type(s, p, code)
    per = _period(rtype, period, now)
    if tenant_id and tenant_id != p.tenant_id:
        domain.check_uuid(tenant_id, "单位")
        tenant = repo.get_tenant(s, p.tenant_path, tenant_id)
        if tenant is None or tenant.path == p.tenant_path:
            raise PermissionDenied("只能查看本单位及下级单位的报告。")
    else:
        tenant = caller_tenant(s, p)
    report = repo.get_report(s, tenant.path, tenant.id, rtype.code, per.code)
    if report is not None:
        values, prefilled = report.values, False
    else:
        values, prefilled = _prefill(s, tenant, rtype, per), True
    return _seen_by(
        p,
        ReportView(tenant, rtype, per, report, values, prefilled, rtype.deadline(tenant.kind, per)),
    )


def _own_report(
    s: Session, p: Principal, now: datetime, code: str, period: str
) -> tuple[Tenant, report_types.ReportType, periods.Period, Report | None]:
    domain.check_role(p.roles, "write")
    rtype = resolve_type(s, p, code)
    per = _period(rtype, period, now)
    tenant = caller_tenant(s, p)
    report = repo.get_report(s, tenant.path, tenant.id, rtype.code, per.code, lock=True)
    return tenant, rtype, per, report


def _new_report(tenant: Tenant, rtype: report_types.ReportType, per: periods.Period) -> Report:
    return Report(
        id=str(uuid.uuid4()),
        tenant_id=tenant.id,
        tenant_path=tenant.path,
        tenant_kind=tenant.kind,
        type_code=rtype.code,
        period=per.code,
        status=domain.DRAFT,
        version=0,
        deadline=rtype.deadline(tenant.kind, per),
    )


def save_draft(
    s: Session, p: Principal, now: datetime, code: str, period: str, values: dict[str, Any]
) -> ReportView:
    tenant, rtype, per, report = _own_report(s, p, now, code, period)
    cleaned = report_types.clean_values(rtype, values)
    if report is None:
        report = _new_report(tenant, rtype, per)
    domain.check_can_edit(report.status)
    report.values = cleaned
    report.version += 1
    report.updated_by = p.subject
    if report.status != domain.RETURNED:
        report.status = domain.DRAFT
    repo.save_report(s, report)
    return _seen_by(p, ReportView(tenant, rtype, per, report, cleaned, False, report.deadline))


def submit(
    s: Session,
    p: Principal,
    now: datetime,
    code: str,
    period: str,
    values: dict[str, Any] | None = None,
) -> ReportView:
    tenant, rtype, per, report = _own_report(s, p, now, code, period)
    deadline = rtype.deadline(tenant.kind, per)
    if deadline is None:
        raise Conflict(
            f"本单位（{domain.KIND_CN.get(tenant.kind, tenant.kind)}级）无需向上级报送"
            f"“{rtype.name}”。"
        )
    if report is None:
        report = _new_report(tenant, rtype, per)
        report.values = report_types.clean_values(rtype, _prefill(s, tenant, rtype, per))
    domain.check_can_submit(report.status)
    if values:
        report.values = report_types.clean_values(rtype, values)
    report_types.check_complete(rtype, report.values)
    if report.on_time is None:  # judged at the first submission; a return does not change it
        report.on_time = periods.is_on_time(now, deadline)
    report.submitted_at = now
    report.deadline = deadline
    report.status = domain.SUBMITTED
    report.return_reason = ""
    report.version += 1
    report.updated_by = p.subject
    repo.save_report(s, report)
    record_event(
        s,
        topic=TOPIC,
        event_type="reporting.report.submitted",
        tenant_id=tenant.id,
        tenant_path=tenant.path,
        actor=p.subject,
        payload=reporting_pb2.ReportSubmitted(
            report_id=report.id,
            type_code=rtype.code,
            period=per.code,
            tenant_id=tenant.id,
            on_time=bool(report.on_time),
            submitted_at=now.isoformat(),
            values=_struct(report_types.numeric_part(rtype, report.values)),
        ),
    )
    return _seen_by(p, ReportView(tenant, rtype, per, report, report.values, False, deadline))


def review(
    s: Session,
    p: Principal,
    now: datetime,
    code: str,
    period: str,
    child_id: str,
    action: Literal["return", "accept"],
    reason: str = "",
) -> ReportView:
    domain.check_role(p.roles, "review")
    rtype = resolve_type(s, p, code)
    per = _period(rtype, period, now)
    domain.check_uuid(child_id, "单位")
    child = repo.get_tenant(s, p.tenant_path, child_id)
    if child is None or not is_direct_child(child.path, p.tenant_path):
        raise PermissionDenied("只能审核本单位直属下级单位报送的报告。")
    report = repo.get_report(s, p.tenant_path, child.id, rtype.code, per.code, lock=True)
    domain.check_can_review(report.status if report else domain.NONE, action, reason)
    assert report is not None
    report.reviewed_by = p.subject
    report.version += 1
    if action == "return":
        report.status = domain.RETURNED
        report.return_reason = reason.strip()
        payload: Any = reporting_pb2.ReportReturned(
            report_id=report.id,
            type_code=rtype.code,
            period=per.code,
            tenant_id=child.id,
            reason=report.return_reason,
        )
    else:
        report.status = domain.ACCEPTED
        report.accepted_at = now
        payload = reporting_pb2.ReportAccepted(
            report_id=report.id, type_code=rtype.code, period=per.code, tenant_id=child.id
        )
    repo.save_report(s, report)
    record_event(
        s,
        topic=TOPIC,
        event_type=REVIEW_EVENTS[action],
        tenant_id=child.id,
        tenant_path=child.path,
        actor=p.subject,
        payload=payload,
    )
    return _seen_by(p, ReportView(child, rtype, per, report, report.values, False, report.deadline))


# ---------------------------------------------------------------- the parent's view


@dataclass
class ChildStatus:
    row: ChildRow
    deadline: date | None
    overdue: bool


@dataclass
class Overview:
    rtype: report_types.ReportType
    period: periods.Period
    children: list[ChildStatus]
    direct: domain.Tally  # the direct children (the list)
    levels: list[domain.Tally]  # the whole subtree by level
    subtree: domain.Tally
    figures: Rollup
    overdue: list[tuple[Tenant, date, int]] = field(default_factory=list)

    @property
    def completeness(self) -> float:
        return self.direct.completeness

    @property
    def timeliness(self) -> float:
        return self.direct.timeliness


def children_overview(s: Session, p: Principal, now: datetime, code: str, period: str) -> Overview:
    rtype = resolve_type(s, p, code)
    per = _period(rtype, period, now)
    today = periods.local_date(now)
    deadlines = {k: rtype.deadline(k, per) for k in rtype.due_rules}
    children = []
    for row in repo.children_with_reports(s, p.tenant_path, rtype.code, per.code):
        d = deadlines.get(row.tenant.kind)
        done = row.report is not None and row.report.status in domain.COUNTED
        children.append(ChildStatus(row, d, d is not None and not done and today > d))
    kinds = list(rtype.due_rules)  # the kinds that must report this type
    direct, levels, subtree = domain.tallies(
        repo.completeness_rows(s, p.tenant_path, rtype.code, per.code, kinds)
    )
    late = {k: d for k, d in deadlines.items() if d is not None and today > d}
    workdays = {k: periods.workdays_after(d, today) for k, d in late.items()}  # once per level
    overdue = [
        (t, late[t.kind], workdays[t.kind])
        for t in repo.overdue_tenants(s, p.tenant_path, rtype.code, per.code, list(late))
    ]
    figures = rollup(s, p.tenant_path, rtype, per.code)
    return Overview(rtype, per, children, direct, levels, subtree, figures, overdue)


# ---------------------------------------------------------------- activities


def create_activity(s: Session, p: Principal, now: datetime, data: dict[str, Any]) -> Activity:
    domain.check_role(p.roles, "write")
    cleaned = domain.clean_activity(data, periods.local_date(now))
    tenant = caller_tenant(s, p)
    aid = repo.insert_activity(s, tenant, cleaned, p.subject)
    record_event(
        s,
        topic=TOPIC,
        event_type="reporting.activity.recorded",
        tenant_id=tenant.id,
        tenant_path=tenant.path,
        actor=p.subject,
        payload=reporting_pb2.ActivityRecorded(
            activity_id=aid,
            tenant_id=tenant.id,
            title=cleaned["title"],
            date=cleaned["date"].isoformat(),
            form=cleaned["form"],
            target=cleaned["target"],
            participants=cleaned["participants"],
        ),
    )
    created = repo.get_activity(s, tenant.path, aid)
    assert created is not None
    return created


def list_activities(
    s: Session,
    p: Principal,
    now: datetime | None,
    period: str = "",
    subtree: bool = False,
    limit: int = 200,
) -> list[Activity]:
    return activity_page(s, p, now, period, subtree, limit)[0]


def activity_page(
    s: Session,
    p: Principal,
    now: datetime | None,
    period: str = "",
    subtree: bool = False,
    limit: int = 200,
    offset: int = 0,
) -> tuple[list[Activity], int]:
    """One page of the activities (latest first) and how many match in all (a subtree's from
    the counts per period and tenant, the tenant's own counted live)."""
    start = end = None
    code = ""
    if period:
        per = periods.parse_period(period)
        start, end, code = per.start, per.end, per.code
    if limit < 0 or limit > 1000 or offset < 0:
        raise InvalidArgument("分页参数不正确（每页1到1000条）。", field="page_size")
    own = None if subtree else p.tenant_id
    rows = repo.list_activities(
        s,
        p.tenant_path,
        start=start,
        end=end,
        own_tenant_id=own,
        limit=limit or 200,
        offset=offset,
    )
    if subtree:
        return rows, repo.count_subtree_activities(s, p.tenant_path, code)
    return rows, repo.count_activities(s, p.tenant_path, start=start, end=end, own_tenant_id=own)


# ---------------------------------------------------------------- notifications and contact


def set_contact_email(s: Session, p: Principal, now: datetime | None, email: str) -> str:
    if not p.has_role("admin"):
        raise PermissionDenied("只有本单位管理员可以设置接收提醒的电子邮箱。")
    email = email.strip()
    if email and ("@" not in email or " " in email or len(email) > 200):
        raise InvalidArgument("电子邮箱格式不正确。")
    tenant = caller_tenant(s, p)
    repo.set_contact_email(s, tenant.id, tenant.path, email or None)
    return email
