"""Use cases of the e站 network. Each takes the unit of work's session first, applies the
domain rules and writes the outbox; the gRPC edge owns the transaction.

A township or county registers and applies for its stations, the county reviews, the city
复核 and 认定 (plaque number), suspends, reinstates or withdraws; every level reads its subtree."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from kepu.reporting.v1 import reporting_pb2, stations_pb2
from kepu_common.errors import InvalidArgument, NotFound, PermissionDenied
from kepu_common.outbox import record_event
from kepu_common.tenancy import Principal
from sqlalchemy.orm import Session

from .. import repository as base_repo
from ..models import Tenant
from ..service import TOPIC, caller_tenant
from . import domain
from . import repository as repo
from .domain import Station

NOT_VISIBLE = "未找到该e站，或不在您的管辖范围内。"
CERTIFIED_TALENT = "certified"


def _uuid(value: str, what: str, at: str = "") -> str:
    try:
        return str(uuid.UUID(value))
    except (ValueError, TypeError, AttributeError) as exc:
        raise InvalidArgument(f"{what}编号格式不正确。", field=at) from exc


def _admin(p: Principal) -> None:
    if "admin" not in p.roles:
        raise PermissionDenied("只有本单位管理员可以管理e站。")


def _writer(p: Principal) -> None:
    """Schedules and activities are filed like reports: by an admin or a 填报员, never by a
    read-only account or a 审核员."""
    if not p.roles & {"admin", "reporter"}:
        raise PermissionDenied("只有本单位管理员或填报员可以报送e站活动计划和登记活动。")


def _changed(s: Session, p: Principal, st: Station, before: str) -> None:
    record_event(
        s, topic=TOPIC, event_type=f"reporting.station.{st.status}", tenant_id=st.tenant_id,
        tenant_path=st.tenant_path, actor=p.subject,
        payload=stations_pb2.StationChanged(
            station_id=st.id, tenant_id=st.tenant_id, tenant_path=st.tenant_path, kind=st.kind,
            from_status=before, to_status=st.status, plaque_no=st.plaque_no or "",
        ),
    )  # fmt: skip


def load(s: Session, p: Principal, station_id: str, *, lock: bool = False) -> Station:
    st = repo.get(s, p.tenant_path, _uuid(station_id, "e站"), lock=lock)
    if st is None:
        raise NotFound(NOT_VISIBLE)
    return st


def create_station(s: Session, p: Principal, data: dict[str, Any]) -> Station:
    _admin(p)
    tid = str(data.get("tenant_id") or "") or p.tenant_id
    tenant = base_repo.get_tenant(s, p.tenant_path, _uuid(tid, "所属单位", "tenant_id"))
    if tenant is None:
        raise InvalidArgument("所属单位不在您的管辖范围内。", field="tenant_id")
    if tenant.kind not in ("township", "county"):
        raise InvalidArgument("e站应建在乡镇（街道）或县（市、区）之下。", field="tenant_id")
    clean = domain.build_station(data)
    st = Station(str(uuid.uuid4()), tenant.id, tenant.path, **clean)
    repo.insert(s, st, p.subject)
    _changed(s, p, st, "")
    return st


def list_stations(
    s: Session, p: Principal, tenant_id: str, kind: str, status: str
) -> list[Station]:
    scope = p.tenant_path
    if tenant_id:
        t = base_repo.get_tenant(s, p.tenant_path, _uuid(tenant_id, "单位", "tenant_id"))
        if t is None:
            raise NotFound("单位不存在，或不在您的管辖范围内。")
        scope = t.path
    return repo.list_stations(s, scope, kind, status)


def submit(s: Session, p: Principal, station_id: str) -> Station:
    _admin(p)
    st = load(s, p, station_id, lock=True)
    domain.check_submit(st)
    before, st.status = st.status, domain.APPLIED
    repo.save(s, st)
    _changed(s, p, st, before)
    return st


def act(s: Session, p: Principal, station_id: str, action: str, opinion: str) -> Station:
    """County review, city 复核 and 认定, return, suspension, reinstatement, withdrawal."""
    _admin(p)
    st = load(s, p, station_id, lock=True)
    if st.tenant_path == p.tenant_path and p.tenant_kind != "county":
        raise PermissionDenied("不能审核本单位申报的e站。")
    target = domain.check_action(st, action, p.tenant_kind)
    before, st.status, st.opinion = st.status, target, opinion.strip()[:1000]
    first = target == domain.CERTIFIED and not st.plaque_no
    if first:
        year = date.today().year
        prefix = domain.plaque_no(caller_tenant(s, p).code, year, 0)[:-4]
        st.plaque_no = domain.plaque_no(
            caller_tenant(s, p).code, year, repo.plaques_with_prefix(s, prefix) + 1
        )
    repo.save(s, st, certified_now=first)
    if (before == domain.CERTIFIED) != (target == domain.CERTIFIED):
        repo.count_certified(s, st, 1 if target == domain.CERTIFIED else -1)
    _changed(s, p, st, before)
    return st


def add_informant(s: Session, p: Principal, station_id: str, talent_id: str) -> Station:
    """Register a 科普信息员: a certified talent of the caller's subtree."""
    _admin(p)
    st = load(s, p, station_id, lock=True)
    tid = _uuid(talent_id, "科普人才", "talent_id")
    found = repo.talent(s, p.tenant_path, tid)
    if found is None or found[1] != CERTIFIED_TALENT:
        raise InvalidArgument("科普信息员须是本辖区人才库中已认定的科普人才。", field="talent_id")
    if tid not in st.informant_ids:
        st.informant_ids = [*st.informant_ids, tid]
        repo.save(s, st)
    return st


def file_schedule(
    s: Session, p: Principal, station_id: str, month: str, items: list[str]
) -> Station:
    _writer(p)
    st = load(s, p, station_id, lock=True)
    domain.check_month(month)
    items = [i.strip()[:200] for i in items if i.strip()][:50]
    if not items:
        raise InvalidArgument("月度活动计划至少要有一项活动。", field="items")
    repo.save_schedule(s, st, month, items)
    return st


def record_activity(s: Session, p: Principal, data: dict[str, Any]) -> dict[str, Any]:
    _writer(p)
    st = load(s, p, str(data.get("station_id") or ""), lock=True)
    if st.status != domain.CERTIFIED:
        raise InvalidArgument("只有已认定的e站可以登记活动。", field="station_id")
    title = str(data.get("title") or "").strip()
    if not title or len(title) > 200:
        raise InvalidArgument("活动名称不能为空，且不超过200字。", field="title")
    try:
        day = date.fromisoformat(str(data.get("date") or ""))
    except ValueError as exc:
        raise InvalidArgument("活动日期格式不正确（应为 YYYY-MM-DD）。", field="date") from exc
    n = int(data.get("participants") or 0)
    if not 0 <= n <= 1_000_000:
        raise InvalidArgument("参与人数应在0到1000000之间。", field="participants")
    row = {"id": str(uuid.uuid4()), "d": day, "t": title, "n": n, "by": p.subject}
    repo.insert_activity(s, st, row)
    tenant = base_repo.get_tenant(s, p.tenant_path, st.tenant_id)
    record_event(  # counts with the tenant's activities (assessment's activities metric)
        s, topic=TOPIC, event_type="reporting.activity.recorded", tenant_id=st.tenant_id,
        tenant_path=st.tenant_path, actor=p.subject,
        payload=reporting_pb2.ActivityRecorded(
            activity_id=row["id"], tenant_id=st.tenant_id, title=title, date=day.isoformat(),
            form="e站活动", target=tenant.name if tenant else "", participants=n,
        ),
    )  # fmt: skip
    return {
        "id": row["id"],
        "station_id": st.id,
        "title": title,
        "date": day.isoformat(),
        "participants": n,
    }


def months(s: Session, p: Principal, station_id: str, year: int) -> list[domain.MonthStatus]:
    st = load(s, p, station_id)
    if not 2000 <= year <= 2100:
        raise InvalidArgument("年度应在2000至2100之间。", field="year")
    return domain.months(
        year, repo.schedules(s, st.id, year), repo.activity_by_month(s, st.id, year)
    )


def compliance(s: Session, p: Principal, month: str) -> tuple[int, list[Station]]:
    year, mo = domain.check_month(month)
    after = date(year + (mo == 12), 1 if mo == 12 else mo + 1, 1)
    return repo.unmet(s, p.tenant_path, date(year, mo, 1), date.fromordinal(after.toordinal() - 1))


# ---------------------------------------------------------------- denominators and coverage


@dataclass(frozen=True)
class CoverageRow:
    tenant: Tenant
    counts: dict[str, int]

    def ratio(self, kind: str) -> float:
        return domain.ratio(self.counts.get(kind, 0), self.counts.get(domain.DENOMINATOR[kind], 0))


def set_denominators(s: Session, p: Principal, data: dict[str, Any]) -> CoverageRow:
    _admin(p)
    tid = str(data.get("tenant_id") or "") or p.tenant_id
    tenant = base_repo.get_tenant(s, p.tenant_path, _uuid(tid, "单位", "tenant_id"))
    if tenant is None:  # another branch's unit is not named to the caller: 404, not 422
        raise NotFound("单位不存在，或不在您的管辖范围内。")
    year = int(data.get("year") or 0)
    if not 2000 <= year <= 2100:
        raise InvalidArgument("年度应在2000至2100之间。", field="year")
    values = {c: int(data.get(c) or 0) for c in domain.DENOMINATOR.values()}
    certified = repo.certified_by_kind(s, tenant.path)
    domain.check_denominators(values, certified)
    other = repo.overlapping_denominator(s, tenant.path, year)
    if other:
        raise InvalidArgument(
            "上级或下级单位已填报本年度的社区、学校、乡村数量，同一地区只能填报一次。",
            field="tenant_id",
        )
    repo.save_denominators(s, tenant.id, tenant.path, year, values)
    record_event(
        s, topic=TOPIC, event_type="reporting.coverage.denominators_set", tenant_id=tenant.id,
        tenant_path=tenant.path, actor=p.subject,
        payload=stations_pb2.DenominatorsSet(
            tenant_id=tenant.id, tenant_path=tenant.path, year=year, **values
        ),
    )  # fmt: skip
    return CoverageRow(tenant, {**certified, **values})


def coverage(
    s: Session, p: Principal, tenant_id: str, year: int
) -> tuple[CoverageRow, list[CoverageRow]]:
    """The ratios of a tenant (its whole subtree) and of each of its direct children."""
    root = caller_tenant(s, p)
    if tenant_id:
        t = base_repo.get_tenant(s, p.tenant_path, _uuid(tenant_id, "单位", "tenant_id"))
        if t is None:
            raise NotFound("单位不存在，或不在您的管辖范围内。")
        root = t
    by_child = repo.coverage_by_child(s, root.path, year)
    total: dict[str, int] = {}
    for counts in by_child.values():
        for k, v in counts.items():
            total[k] = total.get(k, 0) + v
    kids = [CoverageRow(t, dict(by_child.get(t.path, {}))) for t in repo.children(s, root.path)]
    return CoverageRow(root, total), kids
