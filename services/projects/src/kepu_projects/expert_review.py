"""Expert review of a call's projects (专家评审, SPEC section 4) as plain Python, no I/O: one
expert's weighted total over the call's criteria, who may score and how a score is corrected
(with a reason), the ranking by mean score with its spread, and the selection within the
call's quota (择优立项). The project's own life cycle is ``domain``.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from kepu_common.errors import Conflict, InvalidArgument
from kepu_common.times import SHANGHAI

from .domain import EXPERT_REVIEW, check_score, plain


def weighted_total(criteria: Sequence[tuple[str, float]], scores: Mapping[str, float]) -> float:
    """One expert's total: the weighted mean of the criterion scores (0–100)."""
    names = [c for c, _ in criteria]
    unknown = [k for k in scores if k not in names]
    if unknown:
        raise InvalidArgument(f"评审指标“{unknown[0]}”不属于本批次。")
    missing = [c for c in names if c not in scores]
    if missing:
        raise InvalidArgument(f"缺少评审指标“{missing[0]}”的得分。")
    for name, value in scores.items():
        check_score(value, f"“{name}”的得分")
    weight_sum = sum(w for _, w in criteria)
    return round(sum(w * float(scores[c]) for c, w in criteria) / weight_sum, 2)


def check_reviewer(name: str) -> str:
    reviewer = plain((name or "").strip(), "评审专家")
    if not reviewer or len(reviewer) > 64:
        raise InvalidArgument("请填写评审专家（用户编号或姓名，不超过64个字）。")
    return reviewer


def check_score_entry(
    existing_total: float | None, reviewer: str, correction: bool, reason: str
) -> str:
    """A second score by the same expert is refused unless it is an explicit correction with
    a reason (kept in the history); returns the cleaned reason."""
    why = plain((reason or "").strip(), "更正理由")
    if existing_total is None:
        if correction:
            raise Conflict(f"评审专家“{reviewer}”尚未为该项目评分，无需更正。")
        return ""
    if not correction:
        raise Conflict(
            f"评审专家“{reviewer}”已为该项目评分（总分{existing_total:g}），不能重复评分；"
            "如需更正，请注明为更正（correction）并填写更正理由。"
        )
    if len(why) < 2:
        raise InvalidArgument("更正专家评分时必须填写更正理由（至少2个字）。")
    if len(why) > 500:
        raise InvalidArgument("更正理由不能超过500个字。")
    return why


@dataclass(frozen=True)
class Candidate:
    project_id: str
    status: str
    submitted_at: datetime | None
    totals: tuple[float, ...]


@dataclass(frozen=True)
class Ranked:
    rank: int
    candidate: Candidate
    mean: float
    spread: float
    eligible: bool


def rank(candidates: Iterable[Candidate], min_reviewers: int) -> list[Ranked]:
    """Order by mean score (desc); ties go to the smaller spread, then the earlier filing.

    Spread is the population standard deviation of the experts' totals. A project is
    eligible for selection when it is still in expert review and has enough reviewers.
    """
    far = datetime.max.replace(tzinfo=SHANGHAI)
    rows = []
    for c in candidates:
        mean = round(statistics.fmean(c.totals), 2) if c.totals else 0.0
        spread = round(statistics.pstdev(c.totals), 2) if len(c.totals) > 1 else 0.0
        rows.append((c, mean, spread))
    rows.sort(
        key=lambda r: (not r[0].totals, -r[1], r[2], r[0].submitted_at or far, r[0].project_id)
    )
    return [
        Ranked(
            i + 1,
            c,
            mean,
            spread,
            c.status == EXPERT_REVIEW and len(c.totals) >= min_reviewers,
        )
        for i, (c, mean, spread) in enumerate(rows)
    ]


@dataclass(frozen=True)
class Selection:
    approved: list[Ranked]
    rejected: list[Ranked] = field(default_factory=list)


def select_top(
    ranking: Sequence[Ranked],
    *,
    top_n: int,
    quota: int | None,
    already_approved: int,
    reject_others: bool,
) -> Selection:
    """择优支持: the best ``top_n`` eligible projects, never beyond the call's quota."""
    if top_n < 0:
        raise InvalidArgument("入选数量不能为负数。")
    if quota is not None:
        remaining = quota - already_approved
        if remaining <= 0:
            raise Conflict(f"本批次名额（择优支持{quota}个）已满，不能再立项。")
        n = top_n or remaining
        if n > remaining:
            raise Conflict(
                f"入选数量{n}超过本批次剩余名额：择优支持{quota}个，已立项{already_approved}个。"
            )
    else:
        if not top_n:
            raise InvalidArgument("本批次不限名额，请指定入选数量。")
        n = top_n
    eligible = [r for r in ranking if r.eligible]
    if not eligible:
        raise Conflict("没有可以入选的项目：需在专家评审阶段且评审专家人数达到要求。")
    chosen = eligible[:n]
    rest = eligible[n:] if reject_others else []
    return Selection(chosen, rest)
