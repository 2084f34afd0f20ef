"""gRPC servicer of i科普 科技志愿服务: proto <-> service, one unit of work per call."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

import grpc
from google.protobuf import json_format
from kepu.talent.v1 import volunteers_pb2 as pb
from kepu.talent.v1 import volunteers_pb2_grpc
from kepu_common.auth import TokenVerifier
from kepu_common.db import Database
from kepu_common.grpcio import Servicer
from kepu_common.tenancy import Principal
from kepu_common.times import shanghai_iso
from sqlalchemy.orm import Session

from ..crypto import KeyRing
from . import docx, domain, repository, service
from .domain import Org, ServiceRecord, Volunteer

T = TypeVar("T")


def _iso(value: Any) -> str:
    return shanghai_iso(value) if value else ""


def volunteer_pb(v: Volunteer, tenant_name: str, hours: Decimal = Decimal(0)) -> pb.Volunteer:
    return pb.Volunteer(
        id=v.id, talent_id=v.talent_id, tenant_id=v.tenant_id, tenant_name=tenant_name,
        name=v.name, phone=v.phone_masked, specialty=v.specialty,
        volunteer_no=domain.volunteer_no(v.seq), consent_version=v.consent_version,
        consented_at=_iso(v.consented_at), consented_by=v.consented_by_username,
        status=v.status, year_hours=float(hours),
    )  # fmt: skip


def org_pb(o: Org, tenant_name: str) -> pb.VolunteerOrg:
    return pb.VolunteerOrg(
        id=o.id, tenant_id=o.tenant_id, tenant_name=tenant_name, name=o.name,
        contact_name=o.contact_name, contact_phone=o.contact_phone_masked,
        created_at=_iso(o.created_at),
    )  # fmt: skip


def record_pb(r: ServiceRecord, p: Principal) -> pb.ServiceRecord:
    return pb.ServiceRecord(
        id=r.id, org_id=r.org_id, org_name=r.org_name, volunteer_id=r.volunteer_id,
        volunteer_name=r.volunteer_name, served_on=r.served_on.isoformat(), place=r.place,
        kind=r.kind, kind_label=domain.KINDS[r.kind], hours=float(r.hours),
        beneficiaries=r.beneficiaries, description=r.description, status=r.status,
        status_label=domain.STATUS_CN[r.status], reason=r.reason, entered_at=_iso(r.entered_at),
        decided_at=_iso(r.decided_at), allowed_actions=list(domain.allowed_actions(r, p)),
    )  # fmt: skip


def row_pb(r: service.HoursRow) -> pb.HoursRow:
    return pb.HoursRow(
        id=r.id, name=r.name, hours=float(r.hours), records=r.records,
        beneficiaries=r.beneficiaries,
    )  # fmt: skip


class VolunteerServicer(Servicer, volunteers_pb2_grpc.VolunteerServiceServicer):
    def __init__(self, verifier: TokenVerifier, db: Database, keys: KeyRing) -> None:
        super().__init__(verifier)
        self.db = db
        self.keys = keys

    def _run(self, context: grpc.ServicerContext, fn: Callable[[Session, Principal], T]) -> T:
        return self.in_tenant(context, self.db, fn, staff=True)

    @staticmethod
    def _data(msg: Any) -> dict[str, Any]:
        return json_format.MessageToDict(msg, preserving_proto_field_name=True)

    @staticmethod
    def _volunteers(s: Session, p: Principal, rows: list[Volunteer]) -> list[pb.Volunteer]:
        names = repository.tenant_names(s, sorted({v.tenant_id for v in rows}))
        hours = service.year_hours(s, p, rows)
        return [
            volunteer_pb(v, names.get(v.tenant_id, ""), hours.get(v.id, Decimal(0))) for v in rows
        ]

    @staticmethod
    def _orgs(s: Session, rows: list[Org]) -> list[pb.VolunteerOrg]:
        names = repository.tenant_names(s, sorted({o.tenant_id for o in rows}))
        return [org_pb(o, names.get(o.tenant_id, "")) for o in rows]

    def RegisterVolunteer(
        self, request: pb.RegisterVolunteerRequest, context: grpc.ServicerContext
    ) -> pb.Volunteer:
        data = self._data(request)
        return self._run(
            context,
            lambda s, p: self._volunteers(s, p, [service.register(s, p, self.keys, data)])[0],
        )

    def GetVolunteer(
        self, request: pb.VolunteerRequest, context: grpc.ServicerContext
    ) -> pb.Volunteer:
        return self._run(
            context,
            lambda s, p: self._volunteers(
                s, p, [service.load_volunteer(s, p, request.volunteer_id)]
            )[0],
        )

    def ListVolunteers(
        self, request: pb.ListVolunteersRequest, context: grpc.ServicerContext
    ) -> pb.ListVolunteersResponse:
        def run(s: Session, p: Principal) -> pb.ListVolunteersResponse:
            rows = service.list_volunteers(s, p, request.tenant_id)
            return pb.ListVolunteersResponse(
                volunteers=self._volunteers(s, p, rows),
                consent_version=domain.CONSENT_VERSION,
                consent_text=domain.CONSENT_TEXT,
            )

        return self._run(context, run)

    def CreateOrg(self, request: pb.OrgInput, context: grpc.ServicerContext) -> pb.VolunteerOrg:
        data = self._data(request)
        return self._run(
            context, lambda s, p: self._orgs(s, [service.create_org(s, p, self.keys, data)])[0]
        )

    def GetOrg(self, request: pb.OrgRequest, context: grpc.ServicerContext) -> pb.VolunteerOrg:
        return self._run(
            context, lambda s, p: self._orgs(s, [service.load_org(s, p, request.org_id)])[0]
        )

    def ListOrgs(
        self, request: pb.ListOrgsRequest, context: grpc.ServicerContext
    ) -> pb.ListOrgsResponse:
        return self._run(
            context,
            lambda s, p: pb.ListOrgsResponse(orgs=self._orgs(s, service.list_orgs(s, p))),
        )

    def AddRecord(self, request: pb.RecordInput, context: grpc.ServicerContext) -> pb.ServiceRecord:
        data = self._data(request)
        return self._run(context, lambda s, p: record_pb(service.add_record(s, p, data), p))

    def ListRecords(
        self, request: pb.ListRecordsRequest, context: grpc.ServicerContext
    ) -> pb.ListRecordsResponse:
        def run(s: Session, p: Principal) -> pb.ListRecordsResponse:
            rows = service.list_records(
                s, p, request.org_id, request.volunteer_id, request.status, request.year
            )
            return pb.ListRecordsResponse(records=[record_pb(r, p) for r in rows])

        return self._run(context, run)

    def DecideRecord(
        self, request: pb.DecideRecordRequest, context: grpc.ServicerContext
    ) -> pb.ServiceRecord:
        return self._run(
            context,
            lambda s, p: record_pb(
                service.decide(s, p, request.record_id, request.action, request.reason), p
            ),
        )

    def Hours(self, request: pb.HoursRequest, context: grpc.ServicerContext) -> pb.HoursResponse:
        def run(s: Session, p: Principal) -> pb.HoursResponse:
            h = service.hours(s, p, request.tenant_id, request.year)
            return pb.HoursResponse(
                year=h.year, total=row_pb(h.total), children=[row_pb(c) for c in h.children],
                orgs=[row_pb(o) for o in h.orgs], volunteers=[row_pb(v) for v in h.volunteers],
            )  # fmt: skip

        return self._run(context, run)

    def Certificate(
        self, request: pb.CertificateRequest, context: grpc.ServicerContext
    ) -> pb.CertificateFile:
        def run(s: Session, p: Principal) -> pb.CertificateFile:
            number, hours, content = service.certificate(s, p, request.volunteer_id, request.year)
            return pb.CertificateFile(
                filename=f"志愿服务证明-{number}.docx", content_type=docx.DOCX_TYPE,
                content=content, certificate_no=number, hours=float(hours),
            )  # fmt: skip

        return self._run(context, run)
