"""gRPC servicer of work plans: proto <-> service, one unit of work per call."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar

import grpc
from google.protobuf import json_format
from google.protobuf.message import Message
from kepu.assessment.v1 import workplans_pb2 as pb
from kepu.assessment.v1 import workplans_pb2_grpc
from kepu_common.auth import TokenVerifier
from kepu_common.db import Database, Scope
from kepu_common.grpcio import Servicer
from kepu_common.objects import ObjectStore
from kepu_common.tenancy import Principal
from kepu_common.times import shanghai_iso
from sqlalchemy.orm import Session

from .. import repository as base_repo
from . import domain, evidence, service
from .domain import Plan, Task

T = TypeVar("T")


def _dict(msg: Message) -> dict[str, Any]:
    return json_format.MessageToDict(msg, preserving_proto_field_name=True)


def _day(v: date | None) -> str:
    return v.isoformat() if v else ""


Files = dict[str, list[Any]]


def task_pb(
    t: Task, names: dict[str, str], progress: list[Any] | None = None, files: Files | None = None
) -> pb.Task:
    now = service.today()
    return pb.Task(
        id=t.id, seq=t.seq, section=t.section, text=t.text, lead_unit_id=t.lead_unit_id,
        lead_unit_name=names.get(t.lead_unit_id, ""), participant_ids=list(t.participant_ids),
        participant_names=[names.get(u, "") for u in t.participant_ids],
        milestones=[
            pb.Milestone(id=m.id, title=m.title, due=_day(m.due), status=m.status,
                         status_label=domain.MILESTONE_CN[m.status], overdue=m.overdue(now),
                         done_on=_day(m.done_on))
            for m in t.milestones
        ],
        targets=[pb.Target(year=x.year, label=x.label, value=x.value) for x in t.targets],
        progress=[progress_pb(r, names, files or {}) for r in progress or () if r[1] == t.id],
    )  # fmt: skip


def evidence_pb(r: Any) -> pb.EvidenceFile:
    return pb.EvidenceFile(
        id=r[0], progress_id=r[1], filename=r[2], content_type=r[3], size=r[4], sha256=r[5],
        created_at=shanghai_iso(r[6]),
    )  # fmt: skip


def progress_pb(r: Any, names: dict[str, str], files: Files) -> pb.Progress:
    return pb.Progress(
        id=r[0], task_id=r[1], unit_id=r[2], unit_name=names.get(r[2], ""), quarter=r[3],
        text=r[4], figures=[pb.Figure(**f) for f in r[5]], attachments=list(r[6]),
        submitted_at=shanghai_iso(r[7]), on_time=r[8],
        files=[evidence_pb(f) for f in files.get(r[0], ())],
    )  # fmt: skip


def supervision_pb(r: Any, names: dict[str, str]) -> pb.Supervision:
    return pb.Supervision(
        id=r[0], plan_id=r[1], task_id=r[2] or "", unit_id=r[3], unit_name=names.get(r[3], ""),
        visited_on=_day(r[4]), findings=r[5], rectify_by=_day(r[6]), rectified=r[7],
        rectified_on=_day(r[8]), rectify_note=r[9],
    )  # fmt: skip


class WorkPlanServicer(Servicer, workplans_pb2_grpc.WorkPlanServiceServicer):
    def __init__(
        self, verifier: TokenVerifier, db: Database, store: ObjectStore,
        evidence_max_bytes: int = evidence.MAX_BYTES,
    ) -> None:  # fmt: skip
        super().__init__(verifier)
        self.db = db
        self.store = store
        self.evidence_max_bytes = evidence_max_bytes

    def _names(self, owner_path: str) -> dict[str, str]:
        """Unit and owner names from the directory: a department cannot read its siblings'
        rows under RLS, and a name is not private."""
        with self.db.unit_of_work(Scope.system_scope()) as s:
            names = {u: t.name for u, t in service.units_of(s, owner_path).items()}
            owner = base_repo.tenant_by_path(s, owner_path)
        if owner:
            names[owner.id] = owner.name
        return names

    def _run(self, context: grpc.ServicerContext, fn: Callable[[Session, Principal], T]) -> T:
        def work() -> T:
            p = self.principal(context)
            with self.db.unit_of_work(Scope.tenant(p.tenant_path)) as s:
                return fn(s, p)

        return self.call(context, work)

    def _plan_pb(
        self, plan: Plan, p: Principal, progress: list[Any] | None = None,
        files: Files | None = None,
    ) -> pb.Plan:  # fmt: skip
        names = self._names(plan.owner_path)
        return pb.Plan(
            id=plan.id, title=plan.title, owner_tenant_id=plan.owner_tenant_id,
            owner_name=names.get(plan.owner_tenant_id, ""), start_year=plan.start_year,
            end_year=plan.end_year,
            phases=[pb.Phase(name=n, start=_day(a), end=_day(b)) for n, a, b in plan.phases],
            sections=[pb.Section(no=n, title=t) for n, t in plan.sections],
            tasks=[task_pb(t, names, progress, files) for t in plan.tasks],
            created_at=shanghai_iso(plan.created_at),
            allowed_actions=service.allowed_actions(p, plan),
        )  # fmt: skip

    def CreatePlan(self, request: pb.PlanInput, context: grpc.ServicerContext) -> pb.Plan:
        data = _dict(request)
        return self._run(context, lambda s, p: self._plan_pb(service.create_plan(s, p, data), p))

    def ImportPlan(self, request: pb.ImportPlanRequest, context: grpc.ServicerContext) -> pb.Plan:
        data = _dict(request.plan)
        return self._run(
            context, lambda s, p: self._plan_pb(service.import_plan(s, p, data, request.xlsx), p)
        )

    def ListPlans(
        self, request: pb.ListPlansRequest, context: grpc.ServicerContext
    ) -> pb.ListPlansResponse:
        return self._run(
            context,
            lambda s, p: pb.ListPlansResponse(
                plans=[self._plan_pb(x, p) for x in service.list_plans(s, p, request.year)]
            ),
        )

    def GetPlan(self, request: pb.PlanRequest, context: grpc.ServicerContext) -> pb.Plan:
        def run(s: Session, p: Principal) -> pb.Plan:
            acc = service.load(s, p, request.plan_id)
            files = evidence.files_of(s, p, acc)
            return self._plan_pb(acc.plan, p, service.progress(s, p, acc), files)

        return self._run(context, run)

    def ReportProgress(
        self, request: pb.ProgressInput, context: grpc.ServicerContext
    ) -> pb.Progress:
        data = _dict(request)

        def run(s: Session, p: Principal) -> pb.Progress:
            d = service.report_progress(s, p, data)
            names = self._names(service.load(s, p, request.plan_id).plan.owner_path)
            return pb.Progress(
                id=d["id"], task_id=d["task_id"], unit_id=d["unit_id"],
                unit_name=names.get(d["unit_id"], ""), quarter=d["quarter"], text=d["text"],
                figures=[pb.Figure(**f) for f in d["figures"]], attachments=d["attachments"],
                on_time=d["on_time"],
            )  # fmt: skip

        return self._run(context, run)

    def SetMilestone(self, request: pb.MilestoneRequest, context: grpc.ServicerContext) -> pb.Task:
        def run(s: Session, p: Principal) -> pb.Task:
            t = service.set_milestone(
                s, p, request.plan_id, request.task_id, request.milestone_id, request.status
            )
            return task_pb(t, self._names(p.tenant_path))  # the owner is the caller

        return self._run(context, run)

    def RecordSupervision(
        self, request: pb.Supervision, context: grpc.ServicerContext
    ) -> pb.Supervision:
        data = _dict(request)

        def run(s: Session, p: Principal) -> pb.Supervision:
            row = service.record_supervision(s, p, data)
            return supervision_pb(row, self._names(p.tenant_path))

        return self._run(context, run)

    def Rectify(
        self, request: pb.SupervisionRequest, context: grpc.ServicerContext
    ) -> pb.Supervision:
        def run(s: Session, p: Principal) -> pb.Supervision:
            row = service.rectify(s, p, request.plan_id, request.supervision_id, request.note)
            return supervision_pb(row, self._names(p.tenant_path))

        return self._run(context, run)

    def ListSupervisions(
        self, request: pb.PlanRequest, context: grpc.ServicerContext
    ) -> pb.SupervisionsResponse:
        def run(s: Session, p: Principal) -> pb.SupervisionsResponse:
            rows = service.list_supervisions(s, p, request.plan_id)
            owner = service.load(s, p, request.plan_id).plan.owner_path
            names = self._names(owner)
            return pb.SupervisionsResponse(supervisions=[supervision_pb(r, names) for r in rows])

        return self._run(context, run)

    def ScoreUnit(
        self, request: pb.UnitScoresRequest, context: grpc.ServicerContext
    ) -> pb.UnitScores:
        items = [_dict(i) for i in request.items]

        def run(s: Session, p: Principal) -> pb.UnitScores:
            unit, scored, total = service.score_unit(
                s, p, request.plan_id, request.unit_id, request.year, items
            )
            return pb.UnitScores(
                plan_id=request.plan_id, unit_id=unit.id, unit_name=unit.name, year=request.year,
                items=[pb.TaskScore(task_id=t, result=r, score=sc) for t, r, sc in scored],
                total=total,
            )  # fmt: skip

        return self._run(context, run)

    def Export(self, request: pb.ExportRequest, context: grpc.ServicerContext) -> pb.FileResponse:
        def run(s: Session, p: Principal) -> pb.FileResponse:
            name, ctype, content = service.export(s, p, request.plan_id, request.format)
            return pb.FileResponse(filename=name, content_type=ctype, content=content)

        return self._run(context, run)

    def Todo(self, request: pb.TodoRequest, context: grpc.ServicerContext) -> pb.TodoResponse:
        def run(s: Session, p: Principal) -> pb.TodoResponse:
            items = service.todo(s, p)
            names: dict[str, str] = {}
            for plan_owner in {i.plan_id for i in items}:
                plan = service.load(s, p, plan_owner).plan
                names.update(self._names(plan.owner_path))
            return pb.TodoResponse(
                items=[
                    pb.TodoItem(kind=i.kind, label=i.label, plan_id=i.plan_id, task_id=i.task_id,
                                unit_id=i.unit_id, unit_name=names.get(i.unit_id, ""),
                                due=_day(i.due))
                    for i in items
                ]
            )  # fmt: skip

        return self._run(context, run)

    def UploadEvidence(
        self, request: pb.UploadEvidenceRequest, context: grpc.ServicerContext
    ) -> pb.EvidenceFile:
        def run(s: Session, p: Principal) -> pb.EvidenceFile:
            row = evidence.attach(
                s, p, self.store, request.plan_id, request.progress_id, request.filename,
                request.content, self.evidence_max_bytes,
            )  # fmt: skip
            return evidence_pb(row)

        return self._run(context, run)

    def GetEvidence(
        self, request: pb.EvidenceRequest, context: grpc.ServicerContext
    ) -> pb.FileResponse:
        def run(s: Session, p: Principal) -> pb.FileResponse:
            row, content = evidence.download(s, p, self.store, request.plan_id, request.evidence_id)
            return pb.FileResponse(filename=row[2], content_type=row[3], content=content)

        return self._run(context, run)
