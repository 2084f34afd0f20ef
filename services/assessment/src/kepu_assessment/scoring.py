"""Scoring of an assessment 考核评价 as plain Python without I/O: an indicator's score from its
rule and the entries or counted metrics, a child's total, the ranking among siblings with the
competition rule (1, 2, 2, 4) and the honours list (先进典型) with its floor, its cap and the
ties on the boundary the scheme's owner resolves. The schemes themselves are ``domain``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kepu_common.errors import Conflict, InvalidArgument

from .domain import AT_LEAST, AUTOMATIC, EPS, MANUAL, THRESHOLD, Entry, Indicator


@dataclass
class Score:
    indicator: Indicator
    score: float
    actual: float = 0.0
    target: float = 0.0
    met: bool = False
    evidence: str = ""
    entered: bool = False
    subs: list[Score] = field(default_factory=list)


def rule_fraction(rule: str, actual: float, target: float) -> float:
    """Share of the weight earned: linear to the target (capped), or all-or-nothing."""
    if target <= 0:
        return 1.0
    if rule == THRESHOLD:
        return 1.0 if actual + EPS >= target else 0.0
    return max(0.0, min(1.0, actual / target))


def score_indicator(
    ind: Indicator,
    facts: Mapping[str, float],
    entries: Mapping[str, Entry],
    targets: Mapping[str, float],
) -> Score:
    """Score one child on one indicator. ``facts``: metric -> value over the child's subtree;
    ``targets``: allocated quotas overriding the indicator's target."""
    if ind.subs:
        subs = [score_indicator(s, facts, entries, targets) for s in ind.subs]
        if ind.combine == AT_LEAST:
            passed = sum(1 for s in subs if s.met)
            earned = ind.weight * min(1.0, passed / max(ind.min_passed, 1))
        else:
            earned = sum(s.score for s in subs)
        return Score(ind, _round(earned), met=earned + EPS >= ind.weight, subs=subs)
    entry = entries.get(ind.code)
    target = targets.get(ind.code, ind.target)
    if ind.kind == MANUAL:
        got = entry.score if entry and entry.score is not None else 0.0
        return Score(
            ind, _round(got), met=got + EPS >= ind.weight and entry is not None,
            evidence=entry.evidence if entry else "", entered=entry is not None,
        )  # fmt: skip
    if ind.kind == AUTOMATIC:
        actual = facts.get(ind.metric, 0.0)
        entered = True
    else:
        actual = entry.value if entry and entry.value is not None else 0.0
        entered = entry is not None
    frac = rule_fraction(ind.rule, actual, target) if entered else 0.0
    return Score(
        ind, _round(ind.weight * frac), actual=actual, target=target, met=frac >= 1.0,
        evidence=entry.evidence if entry else "", entered=entered,
    )  # fmt: skip


def _round(x: float) -> float:
    return round(x + 0.0, 2)


@dataclass
class ChildResult:
    tenant_id: str
    name: str
    kind: str
    code: str
    total: float
    scores: list[Score]
    rank: int = 0
    honoured: bool = False


def score_child(
    tenant_id: str,
    name: str,
    kind: str,
    code: str,
    indicators: Iterable[Indicator],
    facts: Mapping[str, float],
    entries: Mapping[str, Entry],
    targets: Mapping[str, float],
) -> ChildResult:
    scores = [score_indicator(i, facts, entries, targets) for i in indicators]
    return ChildResult(tenant_id, name, kind, code, _round(sum(s.score for s in scores)), scores)


def rank(results: list[ChildResult]) -> list[ChildResult]:
    """Competition ranking among siblings (1, 2, 2, 4); ties listed by division code."""
    ordered = sorted(results, key=lambda r: (-r.total, r.code))
    prev: float | None = None
    for i, r in enumerate(ordered, start=1):
        r.rank = ordered[i - 2].rank if prev is not None and abs(r.total - prev) < EPS else i
        prev = r.total
    return ordered


@dataclass(frozen=True)
class TieResolution:  # 考核单位对名额边界并列的取舍
    group: tuple[str, ...]  # the tied units the owner decided on (tenant ids, sorted)
    chosen: tuple[str, ...]  # those it honoured

    def as_dict(self) -> dict[str, list[str]]:
        return {"group": list(self.group), "chosen": list(self.chosen)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None) -> TieResolution | None:
        if not d:
            return None
        return cls(tuple(sorted(d.get("group") or ())), tuple(sorted(d.get("chosen") or ())))


@dataclass(frozen=True)
class BoundaryTie:  # 名额边界上的并列: more units share the last places than are left
    rank: int
    seats: int
    tenant_ids: tuple[str, ...]
    names: tuple[str, ...]
    chosen: tuple[str, ...] | None = None  # None until the owner resolved this very tie


@dataclass(frozen=True)
class Honours:
    tie: BoundaryTie | None = None
    note: str = ""


def mark_honours(
    results: list[ChildResult],
    top_n: int,
    min_score: float,
    resolution: TieResolution | None = None,
) -> Honours:
    """先进典型 among ``results`` (ranked). A unit without a score (total 0) is never honoured.
    ``min_score`` is a line every honoured unit reaches; ``top_n`` caps the list at N units.
    When a tie straddles the N-th place, the tied units are honoured only as the owner
    resolved that very tie (``resolution``: any of them, none or all); until then none of them
    is, and the note says why. Returns the tie and a note in Chinese."""
    for r in results:
        r.honoured = False
    if top_n <= 0 and min_score <= 0:
        return Honours()
    scored = [r for r in results if r.total > EPS]
    eligible = [r for r in scored if min_score <= 0 or r.total + EPS >= min_score]
    notes = []
    if len(scored) < len(results):
        notes.append(f"{len(results) - len(scored)}个单位得分为0，不列入先进典型。")
    if top_n <= 0:
        for r in eligible:
            r.honoured = True
        return Honours(note="".join(notes))
    tie: BoundaryTie | None = None
    taken = 0
    for group in _ties(eligible):
        if taken + len(group) <= top_n:
            for r in group:
                r.honoured = True
            taken += len(group)
            continue
        if taken < top_n:
            tie = _boundary(group, top_n - taken, resolution)
            notes.append(_tie_note(tie))
        break
    return Honours(tie, "".join(notes))


def _ties(ranked: list[ChildResult]) -> list[list[ChildResult]]:
    groups: list[list[ChildResult]] = []
    for r in ranked:
        if groups and groups[-1][0].rank == r.rank:
            groups[-1].append(r)
        else:
            groups.append([r])
    return groups


def _boundary(
    group: list[ChildResult], seats: int, resolution: TieResolution | None
) -> BoundaryTie:
    ids = tuple(sorted(r.tenant_id for r in group))
    chosen = resolution.chosen if resolution is not None and resolution.group == ids else None
    for r in group:
        r.honoured = chosen is not None and r.tenant_id in chosen
    return BoundaryTie(group[0].rank, seats, ids, tuple(r.name for r in group), chosen)


def _tie_note(tie: BoundaryTie) -> str:
    names = "、".join(tie.names)
    head = (
        f"第{tie.rank}名有{len(tie.tenant_ids)}个单位并列（{names}），先进典型名额只余{tie.seats}个"
    )
    if tie.chosen is None:
        return head + "，并列单位暂未列入先进典型，请考核单位确定取舍。"
    return head + f"，考核单位已确定其中{len(tie.chosen)}个列入先进典型。"


def check_tie_choice(tie: BoundaryTie | None, chosen: Iterable[str]) -> TieResolution:
    """The owner's choice among the units tied at the boundary (none, some or all of them)."""
    if tie is None:
        raise Conflict("当前没有需要确定取舍的名额边界并列单位。")
    picked = tuple(sorted(set(chosen)))
    if not set(picked) <= set(tie.tenant_ids):
        raise InvalidArgument("所选单位不在并列单位之中，请从并列单位中选择。")
    return TieResolution(tie.tenant_ids, picked)
