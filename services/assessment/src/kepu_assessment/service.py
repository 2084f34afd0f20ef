"""Use cases of the assessment service. Each takes the unit of work's session first (the
edge owns the transaction), applies the domain rules and writes the outbox."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kepu.assessment.v1 import assessment_pb2 as pb
from kepu_common.errors import Conflict, InvalidArgument, NotFound, PermissionDenied
from kepu_common.outbox import record_event
from kepu_common.tenancy import Principal, is_descendant_or_self
from sqlalchemy.orm import Session

from . import domain, scoring
from . import repository as repo
from .models import Scheme, Tenant

TOPIC = "assessment.events"


# ---------------------------------------------------------------- helpers


def check_uuid(value: str, what: str) -> str:
    try:
        return str(uuid.UUID(value))
    except (ValueError, TypeError, AttributeError) as exc:
        raise InvalidArgument(f"{what}编号格式不正确。") from exc


def caller_tenant(s: Session, p: Principal) -> Tenant:
    t = repo.tenant_by_path(s, p.tenant_path)
    if t is not None:
        return t
    code = p.tenant_path.rsplit(".", 1)[-1]
    return Tenant(p.tenant_id, code, code, p.tenant_kind, None, p.tenant_path, "active")


def load_scheme(s: Session, p: Principal, scheme_id: str) -> Scheme:
    sc = repo.get_scheme(s, p.tenant_path, check_uuid(scheme_id, "考核方案"))
    if sc is None:
        raise NotFound("未找到该考核方案，或无权查看。")
    return sc


def owned_scheme(s: Session, p: Principal, scheme_id: str) -> Scheme:
    """The caller's own scheme, locked for the change (concurrent computes serialise)."""
    sc = load_scheme(s, p, scheme_id)
    require_owner(p, sc)
    locked = repo.get_scheme(s, p.tenant_path, sc.id, lock=True)
    assert locked is not None
    return locked


def is_assessor(p: Principal, sc: Scheme) -> bool:
    """The owner and its ancestors see everything of a scheme, published or not."""
    return is_descendant_or_self(sc.owner_path, p.tenant_path)


def allowed_actions(p: Principal, sc: Scheme) -> list[str]:
    """What ``p`` may do with the scheme (``domain.scheme_actions``)."""
    return domain.scheme_actions(sc.status, sc.owner_path, p.tenant_path, p.roles)


def require_owner(p: Principal, sc: Scheme) -> None:
    domain.check_admin(p.roles)
    if p.tenant_path != sc.owner_path:
        raise PermissionDenied("只有制定该考核方案的单位才能进行此操作。")


def _event(s: Session, p: Principal, sc: Scheme, event_type: str, payload: Any) -> None:
    record_event(
        s,
        topic=TOPIC,
        event_type=event_type,
        tenant_id=sc.owner_tenant_id,
        tenant_path=sc.owner_path,
        actor=p.subject,
        payload=payload,
    )


# ---------------------------------------------------------------- schemes


def create_scheme(s: Session, p: Principal, data: dict[str, Any]) -> Scheme:
    domain.check_admin(p.roles)
    year = domain.check_year(int(data.get("year") or 0))
    name = domain.check_name(str(data.get("name") or ""))
    top_n = int(data.get("honours_top_n") or 0)
    min_score = float(data.get("honours_min_score") or 0)
    domain.check_honours(top_n, min_score)
    indicators = domain.build_indicators(data.get("indicators") or [])
    owner = caller_tenant(s, p)
    sc = Scheme(
        str(uuid.uuid4()), year, name, owner.path, owner.id, domain.OPEN, indicators,
        top_n, min_score, p.subject,
    )  # fmt: skip
    repo.insert_scheme(s, sc)
    _event(
        s, p, sc, "assessment.scheme.created",
        pb.SchemeChanged(scheme_id=sc.id, year=year, name=name, status=sc.status),
    )  # fmt: skip
    return sc


def list_schemes(s: Session, p: Principal, year: int = 0) -> list[Scheme]:
    return repo.list_schemes(s, p.tenant_path, year or None)


def get_scheme(s: Session, p: Principal, scheme_id: str) -> Scheme:
    return load_scheme(s, p, scheme_id)


# ---------------------------------------------------------------- computing


def facts_of(counters: dict[str, float]) -> dict[str, float]:
    """Metric values of one child from its subtree's counters (ratios in percent)."""
    out: dict[str, float] = {}
    for m in domain.METRICS.values():
        num = counters.get(m.numerator, 0.0)
        if m.denominator:
            den = counters.get(m.denominator, 0.0)
            out[m.code] = round(100.0 * num / den, 2) if den else 0.0
        else:
            out[m.code] = num
    return out


def compute_results(s: Session, sc: Scheme) -> tuple[list[scoring.ChildResult], scoring.Honours]:
    """Score every direct child of the owner, rank them and mark the honours (nothing is
    written)."""
    kids = repo.children(s, sc.owner_path)
    cumulative = [m.numerator for m in domain.METRICS.values() if m.cumulative]
    counters = repo.subtree_counters(s, sc.owner_path, sc.year, cumulative)
    entries = repo.entries(s, sc)
    quotas = repo.allocations(s, sc, sc.owner_path)
    results = [
        scoring.score_child(
            t.id,
            t.name,
            t.kind,
            t.code,
            sc.indicators,
            facts_of(counters.get(t.path, {})),
            entries.get(t.id, {}),
            quotas.get(t.id, {}),
        )  # fmt: skip
        for t in kids
    ]
    ranked = scoring.rank(results)
    return ranked, honours_of(sc, ranked)


def honours_of(sc: Scheme, ranked: list[scoring.ChildResult]) -> scoring.Honours:
    return scoring.mark_honours(ranked, sc.honours_top_n, sc.honours_min_score, sc.honours_tie)


def score_dict(sc: scoring.Score) -> dict[str, Any]:
    return {
        "code": sc.indicator.code,
        "name": sc.indicator.name,
        "weight": sc.indicator.weight,
        "score": sc.score,
        "actual": sc.actual,
        "target": sc.target,
        "met": sc.met,
        "evidence": sc.evidence,
        "entered": sc.entered,
        "subs": [score_dict(x) for x in sc.subs],
    }


Rows = list[tuple[scoring.ChildResult, list[dict[str, Any]]]]


@dataclass
class ResultsView:
    scheme: Scheme
    live: bool
    rows: Rows = field(default_factory=list)
    honours_info: scoring.Honours = field(default_factory=scoring.Honours)

    @property
    def honours(self) -> list[scoring.ChildResult]:
        if self.scheme.status == domain.OPEN:
            return []
        return [r for r, _ in self.rows if r.honoured]


def _freeze(s: Session, sc: Scheme) -> tuple[Rows, scoring.Honours]:
    results, honours = compute_results(s, sc)
    details = [[score_dict(x) for x in r.scores] for r in results]
    repo.replace_results(s, sc, results, details)
    return list(zip(results, details, strict=True)), honours


def _stored(s: Session, sc: Scheme) -> tuple[Rows, scoring.Honours]:
    """The frozen results, with the honours note (the flags are the stored ones' rule)."""
    rows = repo.stored_results(s, sc)
    return rows, honours_of(sc, [r for r, _ in rows])


def compute(s: Session, p: Principal, scheme_id: str) -> ResultsView:
    sc = owned_scheme(s, p, scheme_id)
    domain.check_open(sc.status)
    return ResultsView(sc, False, *_freeze(s, sc))


def results(s: Session, p: Principal, scheme_id: str) -> ResultsView:
    sc = load_scheme(s, p, scheme_id)
    if is_assessor(p, sc):
        if sc.status == domain.OPEN:
            live, honours = compute_results(s, sc)
            rows = [(r, [score_dict(x) for x in r.scores]) for r in live]
            return ResultsView(sc, True, rows, honours)
        return ResultsView(sc, False, *_stored(s, sc))
    if sc.status != domain.PUBLISHED:
        raise PermissionDenied("考核结果尚未发布，暂不能查看。")
    stored, honours = _stored(s, sc)
    rows = []
    for r, details in stored:
        # A unit sees its own indicator scores; of its siblings only the ranking.
        own = is_descendant_or_self(p.tenant_path, f"{sc.owner_path}.{r.code}")
        rows.append((r, details if own else []))
    return ResultsView(sc, False, rows, honours)


def resolve_tie(s: Session, p: Principal, scheme_id: str, tenant_ids: list[str]) -> ResultsView:
    """The owner decides which of the units tied at the honours boundary are honoured (any of
    them, none or all: a choice that lets the list exceed N is the owner's explicit one)."""
    sc = owned_scheme(s, p, scheme_id)
    if sc.status == domain.PUBLISHED:
        raise Conflict("考核结果已经发布，不能再调整先进典型名单。")
    chosen = [check_uuid(t, "单位") for t in tenant_ids]
    if sc.status == domain.OPEN:
        ranked, honours = compute_results(s, sc)
        rows: Rows = [(r, [score_dict(x) for x in r.scores]) for r in ranked]
    else:
        rows, honours = _stored(s, sc)
    sc.honours_tie = scoring.check_tie_choice(honours.tie, chosen)
    repo.set_honours_tie(s, sc.id, sc.honours_tie)
    honours = honours_of(sc, [r for r, _ in rows])
    if sc.status == domain.CLOSED:
        repo.set_honoured(s, sc, [r.tenant_id for r, _ in rows if r.honoured])
    return ResultsView(sc, sc.status == domain.OPEN, rows, honours)


def close(s: Session, p: Principal, scheme_id: str, now: datetime) -> ResultsView:
    sc = owned_scheme(s, p, scheme_id)
    domain.check_open(sc.status)
    rows, honours = _freeze(s, sc)
    repo.set_status(s, sc.id, domain.CLOSED, now)
    sc.status, sc.closed_at = domain.CLOSED, now
    _event(
        s, p, sc, "assessment.scheme.closed",
        pb.SchemeChanged(scheme_id=sc.id, year=sc.year, name=sc.name, status=sc.status),
    )  # fmt: skip
    return ResultsView(sc, False, rows, honours)


def publish(s: Session, p: Principal, scheme_id: str, now: datetime) -> ResultsView:
    """Publish the frozen results to the whole subtree (an open scheme is closed first)."""
    sc = owned_scheme(s, p, scheme_id)
    if sc.status == domain.PUBLISHED:
        raise Conflict("考核结果已经发布，不能重复发布。")
    if sc.status == domain.OPEN:
        view = close(s, p, scheme_id, now)
        rows, honours = view.rows, view.honours_info
    else:
        rows, honours = _stored(s, sc)
    repo.set_status(s, sc.id, domain.PUBLISHED, now)
    repo.publish_results(s, sc.id)
    sc.status, sc.published_at = domain.PUBLISHED, now
    ranking = [
        pb.RankEntry(tenant_id=r.tenant_id, rank=r.rank, total=r.total, honoured=r.honoured)
        for r, _ in rows
    ]
    _event(
        s, p, sc, "assessment.results.published",
        pb.ResultsPublished(scheme_id=sc.id, year=sc.year, name=sc.name, ranking=ranking),
    )  # fmt: skip
    return ResultsView(sc, False, rows, honours)


# ---------------------------------------------------------------- manual scores and values


def _child(s: Session, sc: Scheme, tenant_id: str) -> Tenant:
    tid = check_uuid(tenant_id, "单位")
    for t in repo.children(s, sc.owner_path):
        if t.id == tid:
            return t
    raise PermissionDenied("只能为本考核方案所考核的直属下级单位评分。")


def set_scores(
    s: Session, p: Principal, scheme_id: str, tenant_id: str, raw: list[dict[str, Any]]
) -> dict[str, domain.Entry]:
    sc = owned_scheme(s, p, scheme_id)
    domain.check_open(sc.status)
    child = _child(s, sc, tenant_id)
    if not raw:
        raise InvalidArgument("请至少填写一项评分。")
    cleaned: dict[str, domain.Entry] = {}
    for item in raw:
        ind = domain.find(sc.indicators, str(item.get("indicator_code") or ""))
        entry = domain.Entry(item.get("score"), item.get("value"), str(item.get("evidence") or ""))
        cleaned[ind.code] = domain.check_entry(ind, entry)
    repo.upsert_entries(s, sc, child.id, cleaned, p.subject)
    return repo.entries(s, sc, child.id).get(child.id, {})


def get_scores(s: Session, p: Principal, scheme_id: str, tenant_id: str) -> dict[str, domain.Entry]:
    sc = load_scheme(s, p, scheme_id)
    if not is_assessor(p, sc):
        raise PermissionDenied("只有考核单位及其上级可以查看评分明细。")
    child = _child(s, sc, tenant_id)
    return repo.entries(s, sc, child.id).get(child.id, {})


# ---------------------------------------------------------------- target allocation (附表1)


@dataclass
class AllocationView:
    indicator: domain.Indicator
    parent_quota: float
    quotas: list[tuple[Tenant, float]]

    @property
    def allocated(self) -> float:
        return sum(q for _, q in self.quotas)


def quota_key(ind: domain.Indicator) -> str:
    """Quotas cascade between levels by the measure, not by each scheme's numbering."""
    return f"metric:{ind.metric}" if ind.metric else f"code:{ind.code}"


def set_allocation(
    s: Session,
    p: Principal,
    scheme_id: str,
    indicator_code: str,
    total: float,
    quotas: dict[str, float],
) -> AllocationView:
    sc = owned_scheme(s, p, scheme_id)
    domain.check_open(sc.status)
    ind = domain.find(sc.indicators, indicator_code)
    kids = {t.id: t for t in repo.children(s, sc.owner_path)}
    checked = {check_uuid(k, "单位"): v for k, v in quotas.items()}
    inherited = repo.inherited_quota(s, sc.owner_tenant_id, sc.year, quota_key(ind))
    parent_quota = float(inherited) if inherited is not None else total
    domain.check_allocation(ind, parent_quota, checked, set(kids))
    repo.save_allocation(
        s, sc, ind.code, quota_key(ind), parent_quota,
        {t: (kids[t].path, q) for t, q in checked.items()},
    )  # fmt: skip
    view = AllocationView(ind, parent_quota, [(kids[t], q) for t, q in checked.items()])
    # An allocation is the quota: the talent service takes talents_certified quotas from this.
    _event(
        s, p, sc, "assessment.allocation.set",
        pb.AllocationSet(
            scheme_id=sc.id, year=sc.year, indicator_code=ind.code, metric=ind.metric,
            parent_quota=parent_quota,
            quotas=[pb.Quota(tenant_id=t.id, name=t.name, quota=q) for t, q in view.quotas],
        ),
    )  # fmt: skip
    return view


def list_allocations(s: Session, p: Principal, scheme_id: str) -> list[AllocationView]:
    sc = load_scheme(s, p, scheme_id)
    assessor = is_assessor(p, sc)
    totals = repo.allocation_totals(s, sc) if assessor else {}
    by_child = repo.allocations(s, sc, sc.owner_path if assessor else p.tenant_path)
    kids = {t.id: t for t in repo.children(s, sc.owner_path)}
    codes = sorted({c for q in by_child.values() for c in q} | set(totals))
    views = []
    for code in codes:
        ind = domain.find(sc.indicators, code)
        rows = [(kids[t], q[code]) for t, q in by_child.items() if code in q and t in kids]
        rows.sort(key=lambda r: r[0].code)
        views.append(AllocationView(ind, totals.get(code, 0.0), rows))
    return views
