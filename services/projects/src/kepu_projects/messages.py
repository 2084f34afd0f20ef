"""Rows <-> proto of the projects service (``kepu.projects.v1``): calls, projects (the contact
phone masked unless the caller may see it in full), expert scores, and a request's 入库表
as the dict the use cases take. Times in Beijing time, money with two decimals.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from kepu.projects.v1 import projects_pb2 as pb
from kepu_common.times import shanghai_iso as _iso  # Beijing time, with its offset

from . import domain, service
from .models import Call, ExpertScore, Project


def money(v: Decimal | None) -> str:
    return f"{v:.2f}" if v is not None else ""


def call_pb(c: Call, now: datetime) -> pb.Call:
    return pb.Call(
        id=c.id,
        owner_tenant_id=c.tenant_id,
        owner_name=c.owner_name,
        title=c.title,
        programme=c.programme,
        year=c.year,
        description=c.description,
        deadline=_iso(c.deadline),
        quota=c.quota or 0,
        criteria=[pb.Criterion(name=n, weight=w) for n, w in c.criteria],
        min_reviewers=c.min_reviewers,
        open=now <= c.deadline,
        approved=c.approved,
        created_at=_iso(c.created_at),
        outcome=c.outcome,
        base_kind=c.base_kind,
        validity_years=c.validity_years,
    )


def project_pb(v: service.ProjectView | Project) -> pb.Project:
    view = v if isinstance(v, service.ProjectView) else service.ProjectView(v)
    p = view.project
    return pb.Project(
        id=p.id,
        tenant_id=p.tenant_id,
        tenant_name=p.tenant_name,
        name=p.name,
        applicant_unit=p.applicant_unit,
        completing_unit=p.completing_unit,
        contact_person=p.contact_person,
        contact_phone=p.phone_revealed or p.phone_masked,
        phone_revealed=bool(p.phone_revealed),
        category=p.category,
        category_label=domain.CATEGORY_CN.get(p.category, p.category),
        start_month=p.start_month,
        end_month=p.end_month,
        content=p.content,
        expected_performance=p.expected_performance,
        budget=money(p.budget),
        call_id=p.call_id or "",
        call_title=p.call_title,
        programme=p.programme,
        status=p.status,
        status_label=domain.STATUS_CN[p.status],
        awaiting_code=(p.awaiting_path or "").rsplit(".", 1)[-1],
        submitted_at=_iso(p.submitted_at),
        approved_at=_iso(p.approved_at),
        library_no=p.library_no or "",
        reject_reason=p.reject_reason,
        completed_at=_iso(p.completed_at),
        completion_summary=p.completion_summary,
        evaluation_score=float(p.evaluation_score or 0),
        evaluation_grade=p.evaluation_grade,
        evaluation_comment=p.evaluation_comment,
        award_recommended=p.award_recommended,
        returned_at=_iso(p.returned_at),
        return_reason=p.return_reason,
        opinions=[
            pb.Opinion(
                tenant_id=o.tenant_id,
                tenant_name=o.tenant_name,
                decision=o.decision,
                opinion=o.opinion,
                actor=o.actor,
                created_at=_iso(o.created_at),
            )
            for o in view.opinions
        ],
        progress=[
            pb.Progress(
                content=r.content, percent=r.percent, actor=r.actor, created_at=_iso(r.created_at)
            )
            for r in view.progress
        ],
        version=p.version,
        created_at=_iso(p.created_at),
        updated_at=_iso(p.updated_at),
        allowed_actions=view.allowed_actions,
    )


def criteria_pb(scores: dict[str, float]) -> list[pb.CriterionScore]:
    return [pb.CriterionScore(criterion=k, score=v) for k, v in scores.items()]


def score_pb(sc: ExpertScore) -> pb.ExpertScore:
    return pb.ExpertScore(
        project_id=sc.project_id,
        reviewer=sc.reviewer,
        scores=criteria_pb(sc.scores),
        total=sc.total,
        history=[
            pb.ScoreRevision(
                scores=criteria_pb(h.scores),
                total=h.total,
                recorded_by=h.recorded_by,
                recorded_at=_iso(h.recorded_at),
                correction=h.correction,
                reason=h.reason,
            )
            for h in sc.history
        ],
    )


def form_data(msg: pb.ProjectInput) -> dict[str, Any]:
    return {
        "name": msg.name,
        "applicant_unit": msg.applicant_unit,
        "completing_unit": msg.completing_unit,
        "contact_person": msg.contact_person,
        "contact_phone": msg.contact_phone,
        "category": msg.category,
        "start_month": msg.start_month,
        "end_month": msg.end_month,
        "content": msg.content,
        "expected_performance": msg.expected_performance,
        "budget": msg.budget,
        "call_id": msg.call_id,
    }
