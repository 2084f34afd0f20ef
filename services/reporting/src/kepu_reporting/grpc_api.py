"""gRPC servicer: proto <-> service, one unit of work per call, status codes via DomainError."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any, TypeVar

import grpc
from google.protobuf import json_format, struct_pb2
from kepu.reporting.v1 import reporting_pb2 as pb
from kepu.reporting.v1 import reporting_pb2_grpc
from kepu_common.auth import TokenVerifier
from kepu_common.db import Database
from kepu_common.errors import NotFound, PermissionDenied
from kepu_common.grpcio import Servicer
from kepu_common.tenancy import Principal
from kepu_common.times import shanghai_iso
from sqlalchemy.orm import Session

from . import docx as docx_render
from . import domain, report_types, repository, service
from .clock import Clock
from .models import Activity, Notification

T = TypeVar("T")


def _iso(v: datetime | date | None) -> str:
    return shanghai_iso(v)


def _values(struct: struct_pb2.Struct) -> dict[str, Any]:
    return json_format.MessageToDict(struct) if struct.fields else {}


def _struct(values: dict[str, Any]) -> struct_pb2.Struct:
    st = struct_pb2.Struct()
    st.update(values)
    return st


def report_type_pb(t: report_types.ReportType) -> pb.ReportType:
    return pb.ReportType(
        code=t.code,
        name=t.name,
        period_kind=t.period_kind,
        owner_tenant_id=t.owner_tenant_id,
        builtin=t.builtin,
        fields=[
            pb.FieldDef(
                key=f.key,
                label=f.label,
                kind=f.kind,
                unit=f.unit,
                required=f.required,
                source=f.source,
            )
            for f in t.fields
        ],
        due_rules=[
            pb.DueRule(tenant_kind=k, month_offset=r.month_offset, day=r.day, anchor=r.anchor)
            for k, r in t.due_rules.items()
        ],
    )


def report_pb(v: service.ReportView) -> pb.Report:
    r = v.report
    return pb.Report(
        id=r.id if r else "",
        type_code=v.rtype.code,
        period=v.period.code,
        tenant_id=v.tenant.id,
        tenant_name=v.tenant.name,
        tenant_kind=v.tenant.kind,
        status=v.status,
        status_label=domain.STATUS_CN[v.status],
        values=_struct(v.values),
        prefilled=v.prefilled,
        deadline=_iso(v.deadline),
        submitted_at=_iso(r.submitted_at) if r else "",
        on_time=bool(r and r.on_time),
        return_reason=r.return_reason if r else "",
        accepted_at=_iso(r.accepted_at) if r else "",
        version=r.version if r else 0,
        updated_at=_iso(r.updated_at) if r else "",
        allowed_actions=v.allowed_actions,
    )


def activity_pb(a: Activity) -> pb.Activity:
    return pb.Activity(
        id=a.id,
        tenant_id=a.tenant_id,
        title=a.title,
        date=a.day.isoformat(),
        place=a.place,
        form=a.form,
        target=a.target,
        participants=a.participants,
        talents=a.talents,
        photos=a.photos,
        created_at=_iso(a.created_at),
    )


def notification_pb(n: Notification) -> pb.Notification:
    return pb.Notification(
        id=n.id,
        kind=n.kind,
        type_code=n.type_code,
        period=n.period,
        subject_tenant_id=n.subject_tenant_id,
        title=n.title,
        body=n.body,
        created_at=_iso(n.created_at),
        read=n.read_at is not None,
    )


def completeness_pb(t: domain.Tally) -> pb.Completeness:
    return pb.Completeness(
        scope=t.scope, label=t.label, expected=t.expected, submitted=t.submitted,
        on_time=t.on_time, completeness=t.completeness, timeliness=t.timeliness,
    )  # fmt: skip


def overview_pb(o: service.Overview) -> pb.ChildrenOverviewResponse:
    children = []
    for c in o.children:
        r = c.row.report
        status = r.status if r else domain.NONE
        children.append(
            pb.ChildStatus(
                tenant_id=c.row.tenant.id,
                name=c.row.tenant.name,
                kind=c.row.tenant.kind,
                status=status,
                status_label=domain.STATUS_CN[status],
                deadline=_iso(c.deadline),
                submitted_at=_iso(r.submitted_at) if r else "",
                on_time=bool(r and r.on_time),
                overdue=c.overdue,
                return_reason=r.return_reason if r else "",
            )
        )
    sums = [
        pb.FieldSum(
            key=f.key, label=f.label, unit=f.unit, value=float(o.figures.sums.get(f.key, 0))
        )
        for f in o.rtype.fields
        if f.kind == "number"
    ]
    sources = [
        pb.SumSource(
            tenant_id=x.tenant.id,
            name=x.tenant.name,
            kind=x.tenant.kind,
            status=x.status,
            submitted_at=_iso(x.submitted_at),
            covers=x.covers,
        )  # fmt: skip
        for x in o.figures.sources
    ]
    overdue = [
        pb.OverdueTenant(
            tenant_id=t.id,
            name=t.name,
            kind=t.kind,
            path=t.path,
            deadline=_iso(d),
            workdays_overdue=n,
        )
        for t, d, n in o.overdue
    ]
    return pb.ChildrenOverviewResponse(
        type_code=o.rtype.code,
        period=o.period.code,
        children=children,
        expected=o.direct.expected,
        submitted=o.direct.submitted,
        on_time=o.direct.on_time,
        completeness=o.direct.completeness,
        timeliness=o.direct.timeliness,
        sums=sums,
        overdue=overdue,
        direct=completeness_pb(o.direct),
        levels=[completeness_pb(t) for t in o.levels],
        subtree=completeness_pb(o.subtree),
        sum_sources=sources,
        sum_briefs=o.figures.briefs,
        sums_rule=domain.SUMS_RULE,
    )


class ReportingServicer(Servicer, reporting_pb2_grpc.ReportingServiceServicer):
    def __init__(self, verifier: TokenVerifier, db: Database, clock: Clock) -> None:
        super().__init__(verifier)
        self.db = db
        self.clock = clock

    def _run(
        self, context: grpc.ServicerContext, fn: Callable[[Session, Principal, datetime], T]
    ) -> T:
        return self.in_tenant(context, self.db, lambda s, p: fn(s, p, self.clock.now()))

    def ListReportTypes(self, request: Any, context: grpc.ServicerContext) -> Any:
        return self._run(
            context,
            lambda s, p, now: pb.ListReportTypesResponse(
                types=[report_type_pb(t) for t in service.list_types(s, p, now)]
            ),
        )

    def DefineReportType(self, request: Any, context: grpc.ServicerContext) -> Any:
        t = request.type
        data = {
            "code": t.code,
            "name": t.name,
            "period_kind": t.period_kind,
            "fields": [
                json_format.MessageToDict(f, preserving_proto_field_name=True) for f in t.fields
            ],
            "due_rules": {
                r.tenant_kind: {
                    "month_offset": r.month_offset,
                    "day": r.day,
                    "anchor": r.anchor or "end",
                }
                for r in t.due_rules
            },
        }
        return self._run(
            context, lambda s, p, now: report_type_pb(service.define_type(s, p, now, data))
        )

    def GetReport(self, request: Any, context: grpc.ServicerContext) -> Any:
        return self._run(
            context,
            lambda s, p, now: report_pb(
                service.get_report(s, p, now, request.type_code, request.period, request.tenant_id)
            ),
        )

    def SaveDraft(self, request: Any, context: grpc.ServicerContext) -> Any:
        return self._run(
            context,
            lambda s, p, now: report_pb(
                service.save_draft(
                    s, p, now, request.type_code, request.period, _values(request.values)
                )
            ),
        )

    def Submit(self, request: Any, context: grpc.ServicerContext) -> Any:
        return self._run(
            context,
            lambda s, p, now: report_pb(
                service.submit(
                    s, p, now, request.type_code, request.period, _values(request.values) or None
                )
            ),
        )

    def ReturnReport(self, request: Any, context: grpc.ServicerContext) -> Any:
        return self._run(
            context,
            lambda s, p, now: report_pb(
                service.review(
                    s,
                    p,
                    now,
                    request.type_code,
                    request.period,
                    request.tenant_id,
                    "return",
                    request.reason,
                )
            ),
        )

    def AcceptReport(self, request: Any, context: grpc.ServicerContext) -> Any:
        return self._run(
            context,
            lambda s, p, now: report_pb(
                service.review(
                    s, p, now, request.type_code, request.period, request.tenant_id, "accept"
                )
            ),
        )

    def ChildrenOverview(self, request: Any, context: grpc.ServicerContext) -> Any:
        return self._run(
            context,
            lambda s, p, now: overview_pb(
                service.children_overview(s, p, now, request.type_code, request.period)
            ),
        )

    def RenderDocument(self, request: Any, context: grpc.ServicerContext) -> Any:
        def render(s: Session, p: Principal, now: datetime) -> pb.Document:
            view = service.get_report(s, p, now, request.type_code, request.period)
            overview = service.children_overview(s, p, now, request.type_code, request.period)
            return pb.Document(
                content=docx_render.render(view, overview, now),
                filename=docx_render.filename(view),
                media_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            )

        return self._run(context, render)

    def CreateActivity(self, request: Any, context: grpc.ServicerContext) -> Any:
        a = request.activity
        data = {
            "title": a.title,
            "date": a.date,
            "place": a.place,
            "form": a.form,
            "target": a.target,
            "participants": a.participants,
            "talents": list(a.talents),
            "photos": list(a.photos),
        }
        return self._run(
            context, lambda s, p, now: activity_pb(service.create_activity(s, p, now, data))
        )

    def ListActivities(self, request: Any, context: grpc.ServicerContext) -> Any:
        def fn(s: Session, p: Principal, now: datetime) -> Any:
            rows, total = service.activity_page(
                s, p, now, request.period, request.subtree, request.limit, request.offset
            )
            return pb.ListActivitiesResponse(activities=[activity_pb(a) for a in rows], total=total)

        return self._run(context, fn)

    def ListNotifications(self, request: Any, context: grpc.ServicerContext) -> Any:
        return self._run(
            context,
            lambda s, p, now: pb.ListNotificationsResponse(
                notifications=[
                    notification_pb(n)
                    for n in repository.list_notifications(
                        s,
                        p.tenant_id,
                        p.tenant_path,
                        unread_only=request.unread_only,
                        limit=max(1, min(request.limit or 100, 500)),
                    )
                ]
            ),
        )

    def MarkNotificationRead(self, request: Any, context: grpc.ServicerContext) -> Any:
        def mark(s: Session, p: Principal, now: datetime) -> pb.Notification:
            # the unit's reminders: a read-only account reads them (a Keycloak token carries
            # default roles besides ours, so the test names the roles that may act)
            if not p.roles & {"admin", "reviewer", "reporter"}:
                raise PermissionDenied("查看者只能查看提醒，不能将提醒标记为已读。")
            domain.check_uuid(request.id, "提醒")
            if not repository.mark_read(s, p.tenant_id, request.id, now):
                raise NotFound("未找到该提醒。")
            found = [
                n
                for n in repository.list_notifications(
                    s, p.tenant_id, p.tenant_path, unread_only=False, limit=500
                )
                if n.id == request.id
            ]
            return notification_pb(found[0]) if found else pb.Notification(id=request.id, read=True)

        return self._run(context, mark)

    def SetContactEmail(self, request: Any, context: grpc.ServicerContext) -> Any:
        return self._run(
            context,
            lambda s, p, now: pb.SetContactEmailResponse(
                email=service.set_contact_email(s, p, now, request.email)
            ),
        )
