"""gRPC servicer: typed requests -> use cases, one unit of work per call, status codes via
DomainError; rows -> proto are ``messages``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import grpc
from kepu.partner.v1 import consent_pb2
from kepu.projects.v1 import projects_pb2 as pb
from kepu.projects.v1 import projects_pb2_grpc
from kepu_common.auth import TokenVerifier
from kepu_common.db import Database
from kepu_common.grpcio import Servicer
from kepu_common.tenancy import Principal
from sqlalchemy.orm import Session

from . import domain, partner, service
from .crypto import KeyRing
from .messages import call_pb, form_data, project_pb, score_pb

T = TypeVar("T")


class ProjectsServicer(projects_pb2_grpc.ProjectsServiceServicer, Servicer):
    def __init__(
        self,
        verifier: TokenVerifier,
        db: Database,
        ring: KeyRing,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        super().__init__(verifier)
        self.db = db
        self.ring = ring
        self.now = now or (lambda: datetime.now(UTC))

    def _run(
        self, context: grpc.ServicerContext, fn: Callable[[Session, Principal, datetime], T]
    ) -> T:
        return self.in_tenant(context, self.db, lambda s, p: fn(s, p, self.now()))

    # ------------------------------------------------------------ calls

    def CloseCall(self, request: pb.GetCallRequest, context: grpc.ServicerContext) -> pb.Call:
        return self._run(
            context,
            lambda s, p, now: call_pb(service.close_call(s, p, now, request.call_id), now),
        )

    def OpenCall(self, request: pb.OpenCallRequest, context: grpc.ServicerContext) -> pb.Call:
        data = {
            "title": request.title,
            "programme": request.programme,
            "year": request.year,
            "description": request.description,
            "deadline": request.deadline,
            "quota": request.quota,
            "criteria": [{"name": c.name, "weight": c.weight} for c in request.criteria],
            "min_reviewers": request.min_reviewers,
            "outcome": request.outcome,
            "base_kind": request.base_kind,
            "validity_years": request.validity_years,
        }
        return self._run(
            context, lambda s, p, now: call_pb(service.open_call(s, p, now, data), now)
        )

    def ListCalls(
        self, request: pb.ListCallsRequest, context: grpc.ServicerContext
    ) -> pb.ListCallsResponse:
        def fn(s: Session, p: Principal, now: datetime) -> pb.ListCallsResponse:
            calls = service.list_calls(
                s, p, now, open_only=request.open_only, fileable_only=request.fileable_only
            )
            return pb.ListCallsResponse(calls=[call_pb(c, now) for c in calls])

        return self._run(context, fn)

    def GetCall(self, request: pb.GetCallRequest, context: grpc.ServicerContext) -> pb.Call:
        return self._run(
            context, lambda s, p, now: call_pb(service.get_call(s, p, request.call_id), now)
        )

    # ------------------------------------------------------------ projects

    def CreateProject(
        self, request: pb.CreateProjectRequest, context: grpc.ServicerContext
    ) -> pb.Project:
        data = form_data(request.project)
        return self._run(
            context,
            lambda s, p, now: project_pb(service.create_project(s, p, now, self.ring, data)),
        )

    def UpdateProject(
        self, request: pb.UpdateProjectRequest, context: grpc.ServicerContext
    ) -> pb.Project:
        data = form_data(request.project)
        return self._run(
            context,
            lambda s, p, now: project_pb(
                service.update_project(s, p, now, self.ring, request.project_id, data)
            ),
        )

    def GetProject(
        self, request: pb.GetProjectRequest, context: grpc.ServicerContext
    ) -> pb.Project:
        return self._run(
            context,
            lambda s, p, now: project_pb(
                service.get_project(s, p, self.ring, request.project_id, reveal=request.reveal)
            ),
        )

    def ListProjects(
        self, request: pb.ListProjectsRequest, context: grpc.ServicerContext
    ) -> pb.ListProjectsResponse:
        def fn(s: Session, p: Principal, now: datetime) -> pb.ListProjectsResponse:
            rows, total = service.list_projects(
                s,
                p,
                status=request.status,
                call_id=request.call_id,
                category=request.category,
                q=request.q,
                subtree=request.subtree,
                awaiting_me=request.awaiting_me,
                sort=request.sort,
                order=request.order,
                limit=request.limit or 50,
                offset=request.offset,
            )
            return pb.ListProjectsResponse(
                projects=[project_pb(service.listed(p, r)) for r in rows], total=total
            )

        return self._run(context, fn)

    def SubmitProject(self, request: pb.ProjectRef, context: grpc.ServicerContext) -> pb.Project:
        return self._run(
            context, lambda s, p, now: project_pb(service.submit(s, p, now, request.project_id))
        )

    def ReviewProject(
        self, request: pb.ReviewProjectRequest, context: grpc.ServicerContext
    ) -> pb.Project:
        return self._run(
            context,
            lambda s, p, now: project_pb(
                service.review(s, p, now, request.project_id, request.decision, request.opinion)
            ),
        )

    # ------------------------------------------------------------ expert review

    def RecordScores(
        self, request: pb.RecordScoresRequest, context: grpc.ServicerContext
    ) -> pb.ExpertScore:
        scores = {c.criterion: c.score for c in request.scores}
        if len(scores) != len(request.scores):
            return self.call(context, _duplicate_criterion)
        return self._run(
            context,
            lambda s, p, now: score_pb(
                service.record_scores(
                    s,
                    p,
                    request.call_id,
                    request.project_id,
                    request.reviewer,
                    scores,
                    correction=request.correction,
                    reason=request.reason,
                )
            ),
        )

    def GetRanking(self, request: pb.GetCallRequest, context: grpc.ServicerContext) -> pb.Ranking:
        def fn(s: Session, p: Principal, now: datetime) -> pb.Ranking:
            call, rows = service.ranking(s, p, request.call_id)
            return pb.Ranking(
                call=call_pb(call, now),
                entries=[
                    pb.RankingEntry(
                        rank=r.ranked.rank,
                        project_id=r.project.id,
                        name=r.project.name,
                        tenant_name=r.project.tenant_name,
                        category=r.project.category,
                        status=r.project.status,
                        reviewers=len(r.scores),
                        mean=r.ranked.mean,
                        spread=r.ranked.spread,
                        eligible=r.ranked.eligible,
                        scores=[score_pb(sc) for sc in r.scores],
                    )
                    for r in rows
                ],
            )

        return self._run(context, fn)

    def SelectProjects(
        self, request: pb.SelectProjectsRequest, context: grpc.ServicerContext
    ) -> pb.SelectProjectsResponse:
        def fn(s: Session, p: Principal, now: datetime) -> pb.SelectProjectsResponse:
            approved, rejected = service.select(
                s, p, now, request.call_id, request.top_n, request.reject_others
            )
            return pb.SelectProjectsResponse(
                approved=[project_pb(service.listed(p, x)) for x in approved],
                rejected=[project_pb(service.listed(p, x)) for x in rejected],
            )

        return self._run(context, fn)

    # ------------------------------------------------------------ implementation, evaluation

    def ReportProgress(
        self, request: pb.ReportProgressRequest, context: grpc.ServicerContext
    ) -> pb.Project:
        return self._run(
            context,
            lambda s, p, now: project_pb(
                service.report_progress(
                    s, p, now, request.project_id, request.content, request.percent
                )
            ),
        )

    def CompleteProject(
        self, request: pb.CompleteProjectRequest, context: grpc.ServicerContext
    ) -> pb.Project:
        return self._run(
            context,
            lambda s, p, now: project_pb(
                service.complete(s, p, now, request.project_id, request.summary)
            ),
        )

    def EvaluateProject(
        self, request: pb.EvaluateProjectRequest, context: grpc.ServicerContext
    ) -> pb.Project:
        return self._run(
            context,
            lambda s, p, now: project_pb(
                service.evaluate(s, p, now, request.project_id, request.score, request.comment)
            ),
        )

    def FlagAward(self, request: pb.FlagAwardRequest, context: grpc.ServicerContext) -> pb.Project:
        return self._run(
            context,
            lambda s, p, now: project_pb(
                service.flag_award(s, p, request.project_id, request.recommended)
            ),
        )

    # ------------------------------------------------------------ counts

    def YearlyCounts(
        self, request: pb.YearlyCountsRequest, context: grpc.ServicerContext
    ) -> pb.YearlyCountsResponse:
        def fn(s: Session, p: Principal, now: datetime) -> pb.YearlyCountsResponse:
            year = request.year or domain.local_year(now)
            yc = service.yearly_counts(s, p, request.tenant_id, year)

            def counts(t: Any, c: Any) -> pb.TenantCounts:
                return pb.TenantCounts(
                    tenant_id=t.id,
                    code=t.code,
                    name=t.name,
                    submitted=c.submitted,
                    approved=c.approved,
                    completed=c.completed,
                    evaluated=c.evaluated,
                )

            return pb.YearlyCountsResponse(
                year=yc.year,
                total=counts(yc.tenant, yc.total),
                by_category=[
                    pb.CategoryCounts(
                        category=cat, label=domain.CATEGORY_CN[cat], approved=a, completed=c
                    )
                    for cat, (a, c) in yc.by_category.items()
                ],
                children=[counts(t, c) for t, c in yc.children],
            )

        return self._run(context, fn)

    # ------------------------------------------------------------ partners (银会合作)

    def CreateConsent(
        self, request: consent_pb2.CreateConsentRequest, context: grpc.ServicerContext
    ) -> consent_pb2.Consent:
        def fn(s: Session, p: Principal, now: datetime) -> consent_pb2.Consent:
            partner.CONSENTS.check_subject_type(request.subject_type)
            return partner.create_consent(
                s,
                p,
                now,
                request.subject_id,
                request.partner_client_id,
                request.partner_tenant_path,
                request.purpose,
                request.expires_at,
            )

        return self._run(context, fn)

    def ListTenantConsents(
        self, request: consent_pb2.ListTenantConsentsRequest, context: grpc.ServicerContext
    ) -> consent_pb2.ListConsentsResponse:
        def fn(s: Session, p: Principal, now: datetime) -> consent_pb2.ListConsentsResponse:
            partner.CONSENTS.check_subject_type(request.subject_type)
            rows, total = partner.tenant_consents(s, p, now, request.limit or 20, request.offset)
            return consent_pb2.ListConsentsResponse(consents=rows, total=total)

        return self._run(context, fn)

    def ListConsents(
        self, request: consent_pb2.ListConsentsRequest, context: grpc.ServicerContext
    ) -> consent_pb2.ListConsentsResponse:
        def fn(s: Session, p: Principal, now: datetime) -> consent_pb2.ListConsentsResponse:
            partner.CONSENTS.check_subject_type(request.subject_type)
            rows = partner.list_consents(s, p, now, request.subject_id)
            return consent_pb2.ListConsentsResponse(consents=rows)

        return self._run(context, fn)

    def RevokeConsent(
        self, request: consent_pb2.RevokeConsentRequest, context: grpc.ServicerContext
    ) -> consent_pb2.Consent:
        def fn(s: Session, p: Principal, now: datetime) -> consent_pb2.Consent:
            partner.CONSENTS.check_subject_type(request.subject_type)
            return partner.revoke_consent(s, p, now, request.subject_id, request.consent_id)

        return self._run(context, fn)

    def ListPartnerProjects(
        self, request: pb.ListPartnerProjectsRequest, context: grpc.ServicerContext
    ) -> pb.ListPartnerProjectsResponse:
        return self._run(
            context,
            lambda s, p, now: partner.list_for_partner(s, p, now, request.page, request.page_size),
        )


def _duplicate_criterion() -> pb.ExpertScore:
    raise domain.InvalidArgument("同一评审指标不能重复打分。")
