"""Use cases of the projects service. Each takes the unit of work's session first (the edge
owns the transaction), applies the domain rules and writes the outbox.

Longer than ~400 lines on purpose: calls, a project's filing and review chain, its expert
review and selection, implementation and evaluation are the use cases of one aggregate (a
project filed under a call); they share the loading and ownership helpers at the top
(``_project``, ``_own``, ``_owned_call``, ``_call_of``) and the event writer, and a split by
stage would spread one project's state changes over several modules. Partner consents are
``partner.py``; bases and resources are their own subpackages."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from kepu.events.v1 import envelope_pb2
from kepu.projects.v1 import projects_pb2
from kepu_common.errors import Conflict, InvalidArgument, NotFound, PermissionDenied
from kepu_common.masking import mask_phone
from kepu_common.outbox import record_event
from kepu_common.tenancy import Principal
from sqlalchemy.orm import Session

from . import domain, expert_review, partner
from . import repository as repo
from .bases import service as bases
from .bases.domain import CERTIFICATION
from .crypto import KeyRing, phone_context
from .models import Call, Counts, ExpertScore, Opinion, ProgressReport, Project, Tenant

TOPIC = "projects.events"
log = logging.getLogger(__name__)


# ---------------------------------------------------------------- helpers


def caller_tenant(s: Session, p: Principal) -> Tenant:
    t = repo.tenant_by_path(s, p.tenant_path)
    if t is not None:
        return t
    # Not yet in the read model: the token's claims are enough to act for oneself.
    code = p.tenant_path.rsplit(".", 1)[-1]
    return Tenant(p.tenant_id, code, code, p.tenant_kind, None, p.tenant_path, "active")


def _project(s: Session, p: Principal, project_id: str, *, lock: bool = False) -> Project:
    domain.check_uuid(project_id, "项目")
    project = repo.get_project(s, p.tenant_path, project_id, lock=lock)
    if project is None:
        raise NotFound("未找到该项目，或无权查看。")
    return project


def _own(project: Project, p: Principal, action_cn: str) -> None:
    if project.tenant_id != p.tenant_id:
        raise PermissionDenied(f"只能{action_cn}本单位申报的项目。")


def get_call(s: Session, p: Principal, call_id: str) -> Call:
    domain.check_uuid(call_id, "申报批次")
    call = repo.get_call(s, p.tenant_path, call_id)
    if call is None:
        raise NotFound("未找到该申报批次，或无权查看。")
    return call


def _owned_call(s: Session, p: Principal, call_id: str, action_cn: str) -> Call:
    call = get_call(s, p, call_id)
    if call.tenant_path != p.tenant_path:
        raise PermissionDenied(f"只有发布该申报批次的单位可以{action_cn}。")
    return call


def _call_of(s: Session, project: Project) -> Call:
    assert project.call_id is not None
    call = repo.get_call(s, project.tenant_path, project.call_id)
    if call is None:  # the call lies on the project's ancestor line, so RLS lets it through
        raise NotFound("未找到该项目的申报批次。")
    return call


def _event(
    s: Session, p: Principal, project: Project, event: str, now: datetime, reason: str = ""
) -> None:
    record_event(
        s,
        topic=TOPIC,
        event_type=f"projects.project.{event}",
        tenant_id=project.tenant_id,
        tenant_path=project.tenant_path,
        actor=p.subject,
        payload=projects_pb2.ProjectEvent(
            project_id=project.id,
            tenant_id=project.tenant_id,
            call_id=project.call_id or "",
            programme=project.programme,
            category=project.category,
            status=project.status,
            year=domain.local_year(now),
            name=project.name,
            evaluation_score=float(project.evaluation_score or 0),
            evaluation_grade=project.evaluation_grade,
            reason=reason,
        ),
    )


# ---------------------------------------------------------------- calls


def open_call(s: Session, p: Principal, now: datetime, data: dict[str, Any]) -> Call:
    domain.check_role(p.roles, domain.ADMIN_ROLES, "发布申报批次")
    domain.check_can_open_call(p.tenant_kind)
    spec = domain.clean_call(data, now)
    owner = caller_tenant(s, p)
    call = Call(
        id=str(uuid.uuid4()),
        tenant_id=p.tenant_id,
        tenant_path=p.tenant_path,
        owner_name=owner.name,
        title=spec.title,
        programme=spec.programme,
        year=spec.year,
        description=spec.description,
        deadline=spec.deadline,
        quota=spec.quota,
        criteria=spec.criteria,
        min_reviewers=spec.min_reviewers,
        created_at=now,
        outcome=spec.outcome.outcome,
        base_kind=spec.outcome.base_kind,
        validity_years=spec.outcome.validity_years,
    )
    repo.insert_call(s, call, p.subject)
    return call


def close_call(s: Session, p: Principal, now: datetime, call_id: str) -> Call:
    """截止申报: the owner ends the filing now (the deadline, inclusive, becomes the moment
    just before this one); projects already filed go on through review and scoring."""
    domain.check_role(p.roles, domain.ADMIN_ROLES, "截止申报批次")
    call = _owned_call(s, p, call_id, "截止申报")
    if call.deadline < now:
        raise Conflict("该申报批次已经截止。")
    deadline = now - timedelta(microseconds=1)
    repo.close_call(s, call.id, deadline)
    return replace(call, deadline=deadline)


def list_calls(
    s: Session, p: Principal, now: datetime, *, open_only: bool, fileable_only: bool
) -> list[Call]:
    return repo.list_calls(
        s, p.tenant_path, fileable_only=fileable_only, open_after=now if open_only else None
    )


# ---------------------------------------------------------------- projects


@dataclass
class ProjectView:
    project: Project
    opinions: list[Opinion] = field(default_factory=list)
    progress: list[ProgressReport] = field(default_factory=list)
    allowed_actions: list[str] = field(default_factory=list)  # for the caller, from the domain


def allowed_actions(p: Principal, project: Project) -> list[str]:
    """What ``p`` may do next with ``project`` (``domain.allowed_actions``)."""
    standing = domain.Standing(
        status=project.status,
        call_id=project.call_id,
        awaiting_path=project.awaiting_path,
        call_owner_path=project.call_owner_path,
        own=project.tenant_id == p.tenant_id,
        same_tenant_path=project.tenant_path == p.tenant_path,
    )
    return domain.allowed_actions(standing, p.tenant_path, p.roles)


def listed(p: Principal, project: Project) -> ProjectView:
    """A project as a list shows it: without its history, with the caller's actions."""
    return ProjectView(project, allowed_actions=allowed_actions(p, project))


def _view(s: Session, p: Principal, project: Project) -> ProjectView:
    return ProjectView(
        project,
        repo.opinions(s, project),
        repo.progress(s, project),
        allowed_actions(p, project),
    )


def _fileable_call(s: Session, p: Principal, now: datetime, call_id: str) -> Call:
    call = get_call(s, p, call_id)
    domain.check_can_file(call.tenant_path, p.tenant_path)
    domain.check_call_open(call.deadline, now, call.title)
    return call


def _apply_form(project: Project, form: domain.ProjectForm, ring: KeyRing) -> None:
    project.name = form.name
    project.applicant_unit = form.applicant_unit
    project.completing_unit = form.completing_unit
    project.contact_person = form.contact_person
    project.phone_sealed = ring.seal(form.contact_phone, phone_context(project.id))
    project.phone_masked = mask_phone(form.contact_phone)
    project.category = form.category
    project.start_month = form.start_month
    project.end_month = form.end_month
    project.content = form.content
    project.expected_performance = form.expected_performance
    project.budget = form.budget
    project.call_id = form.call_id


def remask_phones(s: Session, ring: KeyRing, batch: int = 500) -> int:
    """Re-mask contact phones stored before landlines kept their area code (system scope, at
    start); returns how many rows changed. Idempotent: a fresh mask never matches again."""
    changed, after = 0, "00000000-0000-0000-0000-000000000000"
    while rows := repo.stale_phone_masks(s, after, batch):
        for project_id, sealed in rows:
            try:
                phone = ring.open(sealed, phone_context(project_id))
            except ValueError:  # a retired key: the old mask stays, the service still starts
                log.warning("project %s: contact phone cannot be opened to re-mask", project_id)
                continue
            repo.set_phone_mask(s, project_id, mask_phone(phone))
            changed += 1
        after = rows[-1][0]
    return changed


def create_project(
    s: Session, p: Principal, now: datetime, ring: KeyRing, data: dict[str, Any]
) -> ProjectView:
    domain.check_role(p.roles, domain.WRITE_ROLES, "填报项目")
    form = domain.clean_form(data)
    call = _fileable_call(s, p, now, form.call_id) if form.call_id else None
    tenant = caller_tenant(s, p)
    project = Project(
        id=str(uuid.uuid4()),
        tenant_id=p.tenant_id,
        tenant_path=p.tenant_path,
        tenant_name=tenant.name,
        call_id=None,
        name="",
        applicant_unit="",
        completing_unit="",
        contact_person="",
        phone_sealed=None,
        phone_masked="",
        category="",
        start_month="",
        end_month="",
        content="",
        expected_performance="",
        budget=None,
        status=domain.DRAFT,
        created_by=p.subject,
        created_at=now,
        updated_at=now,
    )
    _apply_form(project, form, ring)
    repo.insert_project(s, project)
    if call is not None:
        project.call_title, project.programme = call.title, call.programme
        project.call_owner_path = call.tenant_path
    return ProjectView(project, allowed_actions=allowed_actions(p, project))


def update_project(
    s: Session, p: Principal, now: datetime, ring: KeyRing, project_id: str, data: dict[str, Any]
) -> ProjectView:
    domain.check_role(p.roles, domain.WRITE_ROLES, "修改项目")
    project = _project(s, p, project_id, lock=True)
    _own(project, p, "修改")
    domain.check_can_edit(project.status)
    form = domain.clean_form(data)
    if form.call_id and form.call_id != project.call_id:
        _fileable_call(s, p, now, form.call_id)
    _apply_form(project, form, ring)
    project.version += 1
    repo.save_project(s, project)
    return _view(s, p, _project(s, p, project_id))


def get_project(
    s: Session, p: Principal, ring: KeyRing, project_id: str, *, reveal: bool = False
) -> ProjectView:
    project = _project(s, p, project_id)
    if reveal:
        own = project.tenant_id == p.tenant_id
        allowed = (domain.WRITE_ROLES | domain.REVIEW_ROLES) if own else domain.REVIEW_ROLES
        domain.check_role(p.roles, allowed, "查看完整联系电话")
        project.phone_revealed = ring.open(project.phone_sealed, phone_context(project.id))
        repo.record_reveal(s, project, p.tenant_path, p.subject, p.username)
        # the audit log an auditor reads is identity's: it learns of the view from this event
        record_event(
            s,
            topic=TOPIC,
            event_type="projects.personal_data_revealed",
            tenant_id=project.tenant_id,
            tenant_path=project.tenant_path,
            actor=p.subject,
            payload=envelope_pb2.AuditRecorded(
                action="personal_data_viewed",
                username=p.username,
                subject_id=p.subject,
                client_ip=p.client_ip,
                details={
                    "subject": "project",
                    "object": f"project:{project.id}",
                    "project_name": project.name,
                    "fields": "contact_phone",
                    "actor_tenant_path": p.tenant_path,
                },
            ),
        )
    return _view(s, p, project)


def list_projects(
    s: Session,
    p: Principal,
    *,
    status: str = "",
    call_id: str = "",
    category: str = "",
    q: str = "",
    subtree: bool = False,
    awaiting_me: bool = False,
    sort: str = "",
    order: str = "",
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Project], int]:
    sort_key, direction = domain.parse_sort(sort, order)
    if status and status not in domain.STATUSES:
        raise InvalidArgument("项目状态不正确。")
    if call_id:
        domain.check_uuid(call_id, "申报批次")
    cat = domain.parse_category(category) if category else ""
    if not 1 <= limit <= 500 or offset < 0:
        raise InvalidArgument("分页参数不正确（每页1到500条）。")
    return repo.list_projects(
        s,
        p.tenant_path,
        own_tenant_id=None if (subtree or awaiting_me) else p.tenant_id,
        status=status,
        call_id=call_id,
        category=cat,
        q=domain.plain(q.strip()[:100], "查询条件"),
        awaiting_path=p.tenant_path if awaiting_me else "",
        sort=sort_key,
        order=direction,
        limit=limit,
        offset=offset,
    )


def submit(s: Session, p: Principal, now: datetime, project_id: str) -> ProjectView:
    domain.check_role(p.roles, domain.WRITE_ROLES, "申报项目")
    project = _project(s, p, project_id, lock=True)
    _own(project, p, "申报")
    domain.check_can_submit(project.status, project.call_id)
    assert project.call_id is not None
    if domain.resubmission_needs_open_call(project.status):
        _fileable_call(s, p, now, project.call_id)
    project.status = domain.SUBMITTED
    project.awaiting_path = domain.parent_path(project.tenant_path)
    project.submitted_at = now
    project.version += 1
    repo.save_project(s, project)
    _event(s, p, project, "submitted", now)
    return _view(s, p, project)


def review(
    s: Session, p: Principal, now: datetime, project_id: str, decision: str, opinion: str
) -> ProjectView:
    """One level's opinion in the chain (通过/不通过/退回修改), or the call owner's rejection in
    expert review. Every opinion stays in the project's history."""
    domain.check_role(p.roles, domain.REVIEW_ROLES, "审核项目")
    project = _project(s, p, project_id, lock=True)
    if project.tenant_path == p.tenant_path:
        raise PermissionDenied("不能审核本单位申报的项目，应由上级科协审核。")
    if not project.call_id:
        raise NotFound("该项目尚未申报。")
    call = _call_of(s, project)
    outcome = domain.review_step(
        status=project.status,
        awaiting_path=project.awaiting_path,
        call_owner_path=call.tenant_path,
        reviewer_path=p.tenant_path,
        decision=decision,
        opinion=opinion,
    )
    repo.insert_opinion(s, project, caller_tenant(s, p), decision, opinion.strip(), p.subject)
    project.status, project.awaiting_path = outcome.status, outcome.awaiting_path
    project.version += 1
    if outcome.status == domain.REJECTED:
        project.rejected_at, project.reject_reason = now, opinion.strip()
    if outcome.status == domain.RETURNED:
        project.returned_at, project.return_reason = now, opinion.strip()
    repo.save_project(s, project)
    if outcome.status == domain.REJECTED:
        _event(s, p, project, "rejected", now, reason=project.reject_reason)
    if outcome.status == domain.RETURNED:
        _event(s, p, project, "returned", now, reason=project.return_reason)
    return _view(s, p, project)


# ---------------------------------------------------------------- expert review


def record_scores(
    s: Session,
    p: Principal,
    call_id: str,
    project_id: str,
    reviewer: str,
    scores: dict[str, float],
    *,
    correction: bool = False,
    reason: str = "",
) -> ExpertScore:
    """An expert's score; a second one for the same project only as an explicit correction
    with a reason, and both stay in the history."""
    domain.check_role(p.roles, domain.REVIEW_ROLES, "录入专家评分")
    call = _owned_call(s, p, call_id, "录入专家评分")
    project = _project(s, p, project_id, lock=True)
    if project.call_id != call.id:
        raise NotFound("该项目不属于本申报批次。")
    if project.status != domain.EXPERT_REVIEW:
        raise Conflict(f"项目当前状态为“{domain.STATUS_CN[project.status]}”，不在专家评审阶段。")
    name = expert_review.check_reviewer(reviewer)
    total = expert_review.weighted_total(call.criteria, scores)
    before = repo.project_score(s, project, name)
    why = expert_review.check_score_entry(
        before.total if before else None, name, correction, reason
    )
    score = ExpertScore(project.id, name, {k: float(v) for k, v in scores.items()}, total)
    repo.save_score(s, project, call.id, score, p.subject, correction=correction, reason=why)
    saved = repo.project_score(s, project, name)
    assert saved is not None
    return saved


@dataclass(frozen=True)
class RankingRow:
    ranked: expert_review.Ranked
    project: Project
    scores: list[ExpertScore]


def _ranking(s: Session, call: Call, *, lock: bool = False) -> list[RankingRow]:
    projects = {x.id: x for x in repo.call_projects(s, call, lock=lock)}
    by_project: dict[str, list[ExpertScore]] = {}
    for sc in repo.call_scores(s, call):
        by_project.setdefault(sc.project_id, []).append(sc)
    reviewed = [
        x for x in projects.values() if x.status == domain.EXPERT_REVIEW or x.id in by_project
    ]
    candidates = [
        expert_review.Candidate(
            x.id, x.status, x.submitted_at, tuple(sc.total for sc in by_project.get(x.id, []))
        )
        for x in reviewed
    ]
    return [
        RankingRow(r, projects[r.candidate.project_id], by_project.get(r.candidate.project_id, []))
        for r in expert_review.rank(candidates, call.min_reviewers)
    ]


def ranking(s: Session, p: Principal, call_id: str) -> tuple[Call, list[RankingRow]]:
    call = _owned_call(s, p, call_id, "查看专家评审排名")
    return call, _ranking(s, call)


def select(
    s: Session, p: Principal, now: datetime, call_id: str, top_n: int, reject_others: bool
) -> tuple[list[Project], list[Project]]:
    """择优立项: approve the best ``top_n`` (default: the remaining quota) into the library; in a
    certification call each one chosen becomes a certified base (认定命名)."""
    domain.check_role(p.roles, domain.ADMIN_ROLES, "择优立项")
    call = _owned_call(s, p, call_id, "择优立项")
    rows = _ranking(s, call, lock=True)
    already = repo.approved_in_call(s, call.id)
    chosen = expert_review.select_top(
        [r.ranked for r in rows],
        top_n=top_n,
        quota=call.quota,
        already_approved=already,
        reject_others=reject_others,
    )
    by_id = {r.project.id: r.project for r in rows}
    approved, rejected = [], []
    for i, ranked in enumerate(chosen.approved):
        project = by_id[ranked.candidate.project_id]
        project.status, project.approved_at = domain.APPROVED, now
        project.library_no = domain.library_no(call.year, call.id, already + i + 1)
        project.version += 1
        repo.save_project(s, project)
        _event(s, p, project, "approved", now)
        partner.write_partner_notices(s, p, project, now)  # 银会合作: consented banks hear of it
        if call.outcome == CERTIFICATION:  # 认定命名: the selected unit's base gets its title
            bases.certify(s, p, call, project, now)
        approved.append(project)
    for ranked in chosen.rejected:
        project = by_id[ranked.candidate.project_id]
        reason = f"专家评审未入选（排名第{ranked.rank}，平均分{ranked.mean:g}）。"
        project.status, project.rejected_at, project.reject_reason = domain.REJECTED, now, reason
        project.version += 1
        repo.save_project(s, project)
        _event(s, p, project, "rejected", now, reason=reason)
        rejected.append(project)
    return approved, rejected


# ---------------------------------------------------------------- implementation and evaluation


def report_progress(
    s: Session, p: Principal, now: datetime, project_id: str, content: str, percent: int
) -> ProjectView:
    domain.check_role(p.roles, domain.WRITE_ROLES, "报送项目进展")
    project = _project(s, p, project_id, lock=True)
    _own(project, p, "报送")
    text = domain.plain((content or "").strip(), "实施进展")
    if not text or len(text) > 5000:
        raise InvalidArgument("请填写实施进展（不超过5000字）。")
    if not 0 <= percent <= 100:
        raise InvalidArgument("完成进度应在0到100之间。")
    project.status = domain.check_can_report_progress(project.status)
    project.version += 1
    repo.insert_progress(s, project, text, percent, p.subject)
    repo.save_project(s, project)
    return _view(s, p, project)


def complete(s: Session, p: Principal, now: datetime, project_id: str, summary: str) -> ProjectView:
    domain.check_role(p.roles, domain.WRITE_ROLES, "申请结项")
    project = _project(s, p, project_id, lock=True)
    _own(project, p, "结项")
    if len(domain.plain(summary or "", "结项总结")) > 5000:
        raise InvalidArgument("结项总结不能超过5000字。")
    project.status = domain.check_can_complete(project.status)
    project.completed_at, project.completion_summary = now, (summary or "").strip()
    project.version += 1
    repo.save_project(s, project)
    _event(s, p, project, "completed", now)
    return _view(s, p, project)


def _as_call_owner(s: Session, p: Principal, project: Project, action_cn: str) -> Call:
    if not project.call_id:
        raise PermissionDenied(f"只有发布申报批次的单位可以{action_cn}。")
    call = _call_of(s, project)
    if call.tenant_path != p.tenant_path:
        raise PermissionDenied(f"只有发布申报批次的单位可以{action_cn}。")
    return call


def evaluate(
    s: Session, p: Principal, now: datetime, project_id: str, score: float, comment: str
) -> ProjectView:
    domain.check_role(p.roles, domain.REVIEW_ROLES, "考核项目")
    project = _project(s, p, project_id, lock=True)
    _as_call_owner(s, p, project, "考核该项目")
    if len(domain.plain(comment or "", "考核意见")) > 2000:
        raise InvalidArgument("考核意见不能超过2000字。")
    project.status, project.evaluation_grade = domain.evaluate(project.status, score)
    project.evaluation_score = Decimal(str(round(score, 2)))
    project.evaluation_comment, project.evaluated_at = (comment or "").strip(), now
    project.version += 1
    repo.save_project(s, project)
    _event(s, p, project, "evaluated", now)
    return _view(s, p, project)


def flag_award(s: Session, p: Principal, project_id: str, recommended: bool) -> ProjectView:
    domain.check_role(p.roles, domain.ADMIN_ROLES, "推荐科普成果奖")
    project = _project(s, p, project_id, lock=True)
    _as_call_owner(s, p, project, "推荐科普成果奖")
    domain.check_can_flag_award(project.status)
    project.award_recommended = recommended
    project.version += 1
    repo.save_project(s, project)
    return _view(s, p, project)


# ---------------------------------------------------------------- yearly counts


@dataclass(frozen=True)
class YearlyCounts:
    year: int
    tenant: Tenant
    total: Counts
    by_category: dict[str, tuple[int, int]]
    children: list[tuple[Tenant, Counts]]


def yearly_counts(s: Session, p: Principal, tenant_id: str, year: int) -> YearlyCounts:
    """Projects submitted/approved/completed/evaluated in ``year`` over a tenant's subtree."""
    if not 2000 <= year <= 2100:
        raise InvalidArgument("年度不正确。")
    if tenant_id and tenant_id != p.tenant_id:
        domain.check_uuid(tenant_id, "单位")
        found = repo.get_tenant(s, p.tenant_path, tenant_id)
        if found is None:
            raise NotFound("未找到该单位，或无权查看。")
        tenant = found
    else:
        tenant = caller_tenant(s, p)
    per_child = repo.yearly_counts(s, tenant.path, year)
    total = Counts(
        *(sum(getattr(c, f) for c in per_child.values()) for f in Counts.__dataclass_fields__)
    )
    kids = [(k, per_child.get(k.path, Counts())) for k in repo.children(s, tenant)]
    by_cat = repo.yearly_by_category(s, tenant.path, year)
    return YearlyCounts(
        year, tenant, total, {c: by_cat.get(c, (0, 0)) for c in domain.CATEGORY_CN}, kids
    )
