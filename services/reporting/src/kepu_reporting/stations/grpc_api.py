"""gRPC servicer of the e站 network: proto <-> service, one unit of work per call."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import grpc
from google.protobuf import json_format
from kepu.reporting.v1 import stations_pb2 as pb
from kepu.reporting.v1 import stations_pb2_grpc
from kepu_common.auth import TokenVerifier
from kepu_common.db import Database, Scope
from kepu_common.grpcio import Servicer
from kepu_common.objects import ObjectStore
from kepu_common.tenancy import Principal
from kepu_common.times import shanghai_iso
from sqlalchemy.orm import Session

from .. import repository as base_repo
from ..settings import ReportingSettings
from . import domain, evidence, service
from .domain import Station

T = TypeVar("T")


def file_pb(r: Any) -> pb.StationFile:
    return pb.StationFile(
        id=r[0], station_id=r[1], condition=r[2], filename=r[3], content_type=r[4], size=r[5],
        sha256=r[6], created_at=shanghai_iso(r[7]),
    )  # fmt: skip


def station_pb(
    st: Station, p: Principal, tenant_name: str = "", files: list[Any] | None = None
) -> pb.Station:
    own = st.tenant_path == p.tenant_path
    return pb.Station(
        id=st.id, tenant_id=st.tenant_id, tenant_name=tenant_name, kind=st.kind,
        kind_label=domain.KINDS[st.kind], name=st.name, address=st.address, host=st.host,
        conditions=[
            pb.Condition(code=c, label=label, met=bool(st.conditions.get(c, {}).get("met")),
                         evidence=str(st.conditions.get(c, {}).get("evidence") or ""),
                         files=[file_pb(f) for f in files or () if f[2] == c])
            for c, label in domain.CONDITIONS.items()
        ],
        status=st.status, status_label=domain.STATUS_CN[st.status], plaque_no=st.plaque_no or "",
        informant_ids=list(st.informant_ids), opinion=st.opinion,
        allowed_actions=list(domain.allowed_actions(st, p.tenant_kind, own)) if "admin" in p.roles else [],
    )  # fmt: skip


def coverage_pb(row: service.CoverageRow) -> pb.CoverageRow:
    c = row.counts
    return pb.CoverageRow(
        tenant_id=row.tenant.id, name=row.tenant.name, communities=c.get("communities", 0),
        schools=c.get("schools", 0), villages=c.get("villages", 0),
        community_stations=c.get("community", 0), school_stations=c.get("school", 0),
        village_stations=c.get("village", 0), community_ratio=row.ratio("community"),
        school_ratio=row.ratio("school"), village_ratio=row.ratio("village"),
    )  # fmt: skip


def months_pb(station_id: str, rows: list[domain.MonthStatus]) -> pb.MonthsResponse:
    return pb.MonthsResponse(
        station_id=station_id,
        months=[
            pb.MonthStatus(month=m.month, scheduled=m.scheduled, activities=m.activities,
                           best=m.best, met=m.met)
            for m in rows
        ],
    )  # fmt: skip


class StationServicer(Servicer, stations_pb2_grpc.StationServiceServicer):
    def __init__(
        self, verifier: TokenVerifier, db: Database, store: ObjectStore | None = None
    ) -> None:
        super().__init__(verifier)
        self.db = db
        settings = ReportingSettings()
        self.store = store or settings.object_store()
        self.evidence_max_bytes = settings.reporting_evidence_max_bytes

    def _run(self, context: grpc.ServicerContext, fn: Callable[[Session, Principal], T]) -> T:
        def work() -> T:
            p = self.principal(context)
            with self.db.unit_of_work(Scope.tenant(p.tenant_path)) as s:
                return fn(s, p)

        return self.call(context, work)

    def _one(
        self, s: Session, p: Principal, st: Station, files: dict[str, list[Any]] | None = None
    ) -> pb.Station:
        t = base_repo.get_tenant(s, p.tenant_path, st.tenant_id)
        if files is None:
            files = evidence.files_of(s, p, [st.id])
        return station_pb(st, p, t.name if t else "", files.get(st.id))

    def _data(self, msg: Any) -> dict[str, Any]:
        return json_format.MessageToDict(msg, preserving_proto_field_name=True)

    def CreateStation(self, request: pb.StationInput, context: grpc.ServicerContext) -> pb.Station:
        data = self._data(request)
        return self._run(context, lambda s, p: self._one(s, p, service.create_station(s, p, data)))

    def GetStation(self, request: pb.StationRequest, context: grpc.ServicerContext) -> pb.Station:
        return self._run(
            context, lambda s, p: self._one(s, p, service.load(s, p, request.station_id))
        )

    def ListStations(
        self, request: pb.ListStationsRequest, context: grpc.ServicerContext
    ) -> pb.ListStationsResponse:
        def run(s: Session, p: Principal) -> pb.ListStationsResponse:
            rows = service.list_stations(s, p, request.tenant_id, request.kind, request.status)
            files = evidence.files_of(s, p, [x.id for x in rows])
            return pb.ListStationsResponse(stations=[self._one(s, p, x, files) for x in rows])

        return self._run(context, run)

    def Submit(self, request: pb.StationRequest, context: grpc.ServicerContext) -> pb.Station:
        return self._run(
            context, lambda s, p: self._one(s, p, service.submit(s, p, request.station_id))
        )

    def Act(self, request: pb.StationActionRequest, context: grpc.ServicerContext) -> pb.Station:
        return self._run(
            context,
            lambda s, p: self._one(
                s, p, service.act(s, p, request.station_id, request.action, request.opinion)
            ),
        )

    def AddInformant(
        self, request: pb.InformantRequest, context: grpc.ServicerContext
    ) -> pb.Station:
        return self._run(
            context,
            lambda s, p: self._one(
                s, p, service.add_informant(s, p, request.station_id, request.talent_id)
            ),
        )

    def FileSchedule(
        self, request: pb.ScheduleRequest, context: grpc.ServicerContext
    ) -> pb.MonthsResponse:
        def run(s: Session, p: Principal) -> pb.MonthsResponse:
            st = service.file_schedule(s, p, request.station_id, request.month, list(request.items))
            year = int(request.month[:4])
            return months_pb(st.id, service.months(s, p, st.id, year))

        return self._run(context, run)

    def RecordActivity(
        self, request: pb.StationActivityInput, context: grpc.ServicerContext
    ) -> pb.StationActivity:
        data = self._data(request)
        return self._run(
            context, lambda s, p: pb.StationActivity(**service.record_activity(s, p, data))
        )

    def Months(self, request: pb.MonthsRequest, context: grpc.ServicerContext) -> pb.MonthsResponse:
        return self._run(
            context,
            lambda s, p: months_pb(
                request.station_id, service.months(s, p, request.station_id, request.year)
            ),
        )

    def SetDenominators(
        self, request: pb.DenominatorInput, context: grpc.ServicerContext
    ) -> pb.CoverageRow:
        data = self._data(request)
        return self._run(context, lambda s, p: coverage_pb(service.set_denominators(s, p, data)))

    def Coverage(
        self, request: pb.CoverageRequest, context: grpc.ServicerContext
    ) -> pb.CoverageResponse:
        def run(s: Session, p: Principal) -> pb.CoverageResponse:
            total, kids = service.coverage(s, p, request.tenant_id, request.year)
            return pb.CoverageResponse(
                total=coverage_pb(total), children=[coverage_pb(k) for k in kids]
            )

        return self._run(context, run)

    def Compliance(
        self, request: pb.ComplianceRequest, context: grpc.ServicerContext
    ) -> pb.ComplianceResponse:
        def run(s: Session, p: Principal) -> pb.ComplianceResponse:
            total, unmet = service.compliance(s, p, request.month)
            files = evidence.files_of(s, p, [x.id for x in unmet])
            return pb.ComplianceResponse(
                month=request.month, certified=total, met=total - len(unmet),
                unmet=[self._one(s, p, x, files) for x in unmet],
            )  # fmt: skip

        return self._run(context, run)

    def UploadFile(
        self, request: pb.UploadStationFileRequest, context: grpc.ServicerContext
    ) -> pb.StationFile:
        def run(s: Session, p: Principal) -> pb.StationFile:
            row = evidence.attach(
                s, p, self.store, request.station_id, request.condition, request.filename,
                request.content, self.evidence_max_bytes,
            )  # fmt: skip
            return file_pb(row)

        return self._run(context, run)

    def GetFile(
        self, request: pb.StationFileRequest, context: grpc.ServicerContext
    ) -> pb.StationFileContent:
        def run(s: Session, p: Principal) -> pb.StationFileContent:
            row, content = evidence.download(s, p, self.store, request.station_id, request.file_id)
            return pb.StationFileContent(filename=row[3], content_type=row[4], content=content)

        return self._run(context, run)
