"""gRPC servicer: proto <-> service, one unit of work per call, status codes via DomainError."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import grpc
from google.protobuf import json_format
from kepu.assessment.v1 import assessment_pb2 as pb
from kepu.assessment.v1 import assessment_pb2_grpc
from kepu_common.auth import TokenVerifier
from kepu_common.db import Database, Scope
from kepu_common.grpcio import Servicer
from kepu_common.tenancy import Principal
from kepu_common.times import shanghai_iso as _iso  # Beijing time, with its offset
from sqlalchemy.orm import Session

from . import domain, repository, scoring, service
from .models import Scheme

T = TypeVar("T")


def indicator_pb(i: domain.Indicator) -> pb.Indicator:
    return pb.Indicator(
        code=i.code, name=i.name, requirement=i.requirement, weight=i.weight, kind=i.kind,
        metric=i.metric, rule=i.rule, target=i.target, unit=i.unit,
        combine=i.combine if i.subs else "", min_passed=i.min_passed,
        subs=[indicator_pb(x) for x in i.subs],
    )  # fmt: skip


def scheme_pb(
    sc: Scheme, children: int = 0, owner_name: str = "", actions: list[str] | None = None
) -> pb.Scheme:
    return pb.Scheme(
        id=sc.id, year=sc.year, name=sc.name, owner_tenant_id=sc.owner_tenant_id,
        owner_name=owner_name, status=sc.status, status_label=domain.STATUS_CN[sc.status],
        honours_top_n=sc.honours_top_n, honours_min_score=sc.honours_min_score,
        indicators=[indicator_pb(i) for i in sc.indicators], created_at=_iso(sc.created_at),
        closed_at=_iso(sc.closed_at), published_at=_iso(sc.published_at), children=children,
        allowed_actions=actions or [],
    )  # fmt: skip


def score_pb(d: dict[str, Any]) -> pb.IndicatorScore:
    return pb.IndicatorScore(
        code=d["code"], name=d["name"], weight=d["weight"], score=d["score"],
        actual=d["actual"], target=d["target"], met=d["met"], evidence=d["evidence"],
        entered=d["entered"], subs=[score_pb(x) for x in d["subs"]],
    )  # fmt: skip


def result_pb(r: scoring.ChildResult, details: list[dict[str, Any]]) -> pb.Result:
    return pb.Result(
        tenant_id=r.tenant_id, name=r.name, kind=r.kind, total=r.total, rank=r.rank,
        honoured=r.honoured, indicators=[score_pb(d) for d in details],
    )  # fmt: skip


def tie_pb(t: scoring.BoundaryTie | None) -> pb.HonoursTie | None:
    if t is None:
        return None
    return pb.HonoursTie(
        rank=t.rank, seats=t.seats, tenant_ids=list(t.tenant_ids), resolved=t.chosen is not None,
        chosen_tenant_ids=list(t.chosen or ()),
    )  # fmt: skip


def results_pb(v: service.ResultsView, p: Principal) -> pb.ResultsResponse:
    by_id = {r.tenant_id: result_pb(r, d) for r, d in v.rows}
    return pb.ResultsResponse(
        scheme=scheme_pb(v.scheme, len(v.rows), actions=service.allowed_actions(p, v.scheme)),
        live=v.live,
        results=list(by_id.values()),
        honours=[by_id[r.tenant_id] for r in v.honours],
        honours_note=v.honours_info.note,
        tie=tie_pb(v.honours_info.tie),
    )


def entries_pb(
    scheme_id: str, tenant_id: str, entries: dict[str, domain.Entry]
) -> pb.ScoresResponse:
    return pb.ScoresResponse(
        scheme_id=scheme_id,
        tenant_id=tenant_id,
        entries=[
            pb.ScoreEntry(indicator_code=c, score=e.score, value=e.value, evidence=e.evidence)
            for c, e in sorted(entries.items())
        ],
    )


def allocation_pb(a: service.AllocationView) -> pb.Allocation:
    return pb.Allocation(
        indicator_code=a.indicator.code, indicator_name=a.indicator.name,
        parent_quota=a.parent_quota, allocated=a.allocated,
        quotas=[pb.Quota(tenant_id=t.id, name=t.name, quota=q) for t, q in a.quotas],
    )  # fmt: skip


def _entry(e: pb.ScoreEntry) -> dict[str, Any]:
    return {
        "indicator_code": e.indicator_code,
        "score": e.score if e.HasField("score") else None,
        "value": e.value if e.HasField("value") else None,
        "evidence": e.evidence,
    }


def scheme_data(sc: pb.Scheme) -> dict[str, Any]:
    return {
        "year": sc.year,
        "name": sc.name,
        "honours_top_n": sc.honours_top_n,
        "honours_min_score": sc.honours_min_score,
        "indicators": [
            json_format.MessageToDict(i, preserving_proto_field_name=True) for i in sc.indicators
        ],
    }


class AssessmentServicer(Servicer, assessment_pb2_grpc.AssessmentServiceServicer):
    def __init__(self, verifier: TokenVerifier, db: Database) -> None:
        super().__init__(verifier)
        self.db = db

    def _scheme_msg(self, sc: Scheme, p: Principal) -> pb.Scheme:
        """The owner's name and its number of children come from the tenant directory:
        a child cannot read its ancestor's row under RLS, and neither fact is private; what
        ``p`` may do with it from the domain."""
        with self.db.unit_of_work(Scope.system_scope()) as s:
            owner = repository.tenant_by_path(s, sc.owner_path)
            children = len(repository.children(s, sc.owner_path))
        return scheme_pb(sc, children, owner.name if owner else "", service.allowed_actions(p, sc))

    def _run(self, context: grpc.ServicerContext, fn: Callable[[Session, Principal], T]) -> T:
        return self.in_tenant(context, self.db, fn)

    def CreateScheme(
        self, request: pb.CreateSchemeRequest, context: grpc.ServicerContext
    ) -> pb.Scheme:
        data = scheme_data(request.scheme)

        def run(s: Session, p: Principal) -> pb.Scheme:
            sc = service.create_scheme(s, p, data)
            return self._scheme_msg(sc, p)

        return self._run(context, run)

    def ListSchemes(
        self, request: pb.ListSchemesRequest, context: grpc.ServicerContext
    ) -> pb.ListSchemesResponse:
        return self._run(
            context,
            lambda s, p: pb.ListSchemesResponse(
                schemes=[self._scheme_msg(x, p) for x in service.list_schemes(s, p, request.year)]
            ),
        )

    def GetScheme(self, request: pb.SchemeRequest, context: grpc.ServicerContext) -> pb.Scheme:
        def run(s: Session, p: Principal) -> pb.Scheme:
            sc = service.get_scheme(s, p, request.scheme_id)
            return self._scheme_msg(sc, p)

        return self._run(context, run)

    def Compute(
        self, request: pb.SchemeRequest, context: grpc.ServicerContext
    ) -> pb.ResultsResponse:
        return self._run(
            context, lambda s, p: results_pb(service.compute(s, p, request.scheme_id), p)
        )

    def GetResults(
        self, request: pb.SchemeRequest, context: grpc.ServicerContext
    ) -> pb.ResultsResponse:
        return self._run(
            context, lambda s, p: results_pb(service.results(s, p, request.scheme_id), p)
        )

    def Close(self, request: pb.SchemeRequest, context: grpc.ServicerContext) -> pb.ResultsResponse:
        return self._run(
            context,
            lambda s, p: results_pb(service.close(s, p, request.scheme_id, datetime.now(UTC)), p),
        )

    def Publish(
        self, request: pb.SchemeRequest, context: grpc.ServicerContext
    ) -> pb.ResultsResponse:
        return self._run(
            context,
            lambda s, p: results_pb(service.publish(s, p, request.scheme_id, datetime.now(UTC)), p),
        )

    def SetScores(
        self, request: pb.SetScoresRequest, context: grpc.ServicerContext
    ) -> pb.ScoresResponse:
        raw = [_entry(e) for e in request.entries]
        return self._run(
            context,
            lambda s, p: entries_pb(
                request.scheme_id,
                request.tenant_id,
                service.set_scores(s, p, request.scheme_id, request.tenant_id, raw),
            ),
        )

    def GetScores(
        self, request: pb.GetScoresRequest, context: grpc.ServicerContext
    ) -> pb.ScoresResponse:
        return self._run(
            context,
            lambda s, p: entries_pb(
                request.scheme_id,
                request.tenant_id,
                service.get_scores(s, p, request.scheme_id, request.tenant_id),
            ),
        )

    def SetAllocation(
        self, request: pb.SetAllocationRequest, context: grpc.ServicerContext
    ) -> pb.Allocation:
        quotas = {q.tenant_id: q.quota for q in request.quotas}
        return self._run(
            context,
            lambda s, p: allocation_pb(
                service.set_allocation(
                    s, p, request.scheme_id, request.indicator_code, request.total, quotas
                )
            ),
        )

    def ListAllocations(
        self, request: pb.SchemeRequest, context: grpc.ServicerContext
    ) -> pb.AllocationsResponse:
        return self._run(
            context,
            lambda s, p: pb.AllocationsResponse(
                scheme_id=request.scheme_id,
                allocations=[
                    allocation_pb(a) for a in service.list_allocations(s, p, request.scheme_id)
                ],
            ),
        )

    def ResolveHonoursTie(
        self, request: pb.ResolveTieRequest, context: grpc.ServicerContext
    ) -> pb.ResultsResponse:
        ids = list(request.tenant_ids)
        return self._run(
            context,
            lambda s, p: results_pb(service.resolve_tie(s, p, request.scheme_id, ids), p),
        )
