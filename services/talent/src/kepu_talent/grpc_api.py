"""gRPC servicer: proto <-> use cases, one unit of work per call (``_run``: the caller's
tenant scope, association staff only; ``_run_partner``: a partner's token, whose use cases
check its scopes), domain errors -> status codes, nothing else."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeAlias, TypeVar

import grpc
from kepu.partner.v1 import consent_pb2
from kepu.talent.v1 import talent_pb2, talent_pb2_grpc
from kepu_common.auth import TokenVerifier
from kepu_common.consent import require_staff
from kepu_common.db import Database
from kepu_common.grpcio import Servicer
from kepu_common.tenancy import Principal
from sqlalchemy.orm import Session

from . import imports, partner
from .archive import ArchiveService
from .documents import Documents
from .docx import DOCX_TYPE
from .imports import ImportJobs
from .service import TalentService
from .xlsx import XLSX_TYPE

Ctx: TypeAlias = grpc.ServicerContext
T = TypeVar("T")


def input_dict(message: talent_pb2.TalentInput) -> dict[str, Any]:
    out: dict[str, Any] = {f.name: getattr(message, f.name) for f in message.DESCRIPTOR.fields}
    out["categories"] = list(message.categories)
    return out


def talent_message(d: dict[str, Any]) -> talent_pb2.Talent:
    return talent_pb2.Talent(
        **{
            **d,
            "fields": talent_pb2.TalentInput(**d["fields"]),
            "history": [talent_pb2.ReviewStep(**h) for h in d["history"]],
        }
    )


def job_message(d: dict[str, Any]) -> talent_pb2.ImportJob:
    return talent_pb2.ImportJob(**{**d, "errors": [talent_pb2.RowError(**e) for e in d["errors"]]})


class TalentServicer(Servicer, talent_pb2_grpc.TalentServiceServicer):
    def __init__(
        self,
        verifier: TokenVerifier,
        db: Database,
        talents: TalentService,
        documents: Documents,
        archive: ArchiveService,
        imports: ImportJobs,
    ) -> None:
        super().__init__(verifier)
        self.db = db
        self.talents = talents
        self.documents = documents
        self.archive = archive
        self.imports = imports

    def _run(self, context: Ctx, fn: Callable[[Session, Principal], T]) -> T:
        """Association staff only: a partner's token works on the partner RPCs alone."""
        return self.in_tenant(context, self.db, fn, staff=True)

    def _run_partner(self, context: Ctx, fn: Callable[[Session, Principal], T]) -> T:
        return self.in_tenant(context, self.db, fn)

    def CreateTalent(
        self, request: talent_pb2.CreateTalentRequest, context: Ctx
    ) -> talent_pb2.Talent:
        return self._run(
            context,
            lambda s, p: talent_message(
                self.talents.create(s, p, input_dict(request.fields), request.tenant_id)
            ),
        )

    def UpdateTalent(
        self, request: talent_pb2.UpdateTalentRequest, context: Ctx
    ) -> talent_pb2.Talent:
        return self._run(
            context,
            lambda s, p: talent_message(
                self.talents.update(s, p, request.id, input_dict(request.fields))
            ),
        )

    def GetTalent(self, request: talent_pb2.GetTalentRequest, context: Ctx) -> talent_pb2.Talent:
        return self._run(
            context,
            lambda s, p: talent_message(self.talents.get(s, p, request.id, reveal=request.reveal)),
        )

    def ListTalents(
        self, request: talent_pb2.ListTalentsRequest, context: Ctx
    ) -> talent_pb2.ListTalentsResponse:
        def list_(s: Session, p: Principal) -> talent_pb2.ListTalentsResponse:
            r = self.talents.search(
                s,
                p,
                q=request.q,
                specialty=request.specialty,
                category=request.category,
                tenant_id=request.tenant_id,
                status=request.status,
                page=request.page or 1,
                page_size=request.page_size or 20,
            )
            return talent_pb2.ListTalentsResponse(
                talents=[talent_message(t) for t in r["talents"]],
                total=r["total"],
                page=r["page"],
                page_size=r["page_size"],
            )

        return self._run(context, list_)

    def Recommend(self, request: talent_pb2.RecommendRequest, context: Ctx) -> talent_pb2.Talent:
        return self._run(
            context,
            lambda s, p: talent_message(self.talents.recommend(s, p, request.id, request.opinion)),
        )

    def Review(self, request: talent_pb2.ReviewRequest, context: Ctx) -> talent_pb2.Talent:
        return self._run(
            context,
            lambda s, p: talent_message(
                self.talents.review(s, p, request.id, request.decision, request.opinion)
            ),
        )

    def BulkReview(
        self, request: talent_pb2.BulkReviewRequest, context: Ctx
    ) -> talent_pb2.BulkReviewResponse:
        def bulk(s: Session, p: Principal) -> talent_pb2.BulkReviewResponse:
            results = self.talents.bulk_review(
                s, p, list(request.ids), request.decision, request.opinion
            )
            ok = sum(1 for r in results if r["ok"])
            return talent_pb2.BulkReviewResponse(
                results=[talent_pb2.BulkReviewResult(**r) for r in results],
                succeeded=ok,
                failed=len(results) - ok,
            )

        return self._run(context, bulk)

    def ChangeLifecycle(
        self, request: talent_pb2.LifecycleRequest, context: Ctx
    ) -> talent_pb2.Talent:
        return self._run(
            context,
            lambda s, p: talent_message(
                self.talents.change_lifecycle(s, p, request.id, request.action, request.reason)
            ),
        )

    def StartImport(self, request: talent_pb2.ImportRequest, context: Ctx) -> talent_pb2.ImportJob:
        """An import is a job that outlives the call: ``ImportJobs`` owns its units of work."""

        def start() -> talent_pb2.ImportJob:
            p = self.principal(context)
            require_staff(p)
            return job_message(
                self.imports.start_import(
                    p, request.content, request.filename, request.mode, request.tenant_id,
                    request.wait,
                )
            )  # fmt: skip

        return self.call(context, start)

    def GetImport(self, request: talent_pb2.GetImportRequest, context: Ctx) -> talent_pb2.ImportJob:
        return self._run(context, lambda s, p: job_message(imports.get_import(s, p, request.id)))

    def Export(self, request: talent_pb2.ExportRequest, context: Ctx) -> talent_pb2.FileResponse:
        def export(s: Session, p: Principal) -> talent_pb2.FileResponse:
            name, content = self.documents.export(
                s,
                p,
                request.tenant_id,
                request.layout,
                request.status,
                request.reveal,
                template=request.template,
            )
            return talent_pb2.FileResponse(filename=name, content_type=XLSX_TYPE, content=content)

        return self._run(context, export)

    def RenderForm(
        self, request: talent_pb2.RenderFormRequest, context: Ctx
    ) -> talent_pb2.FileResponse:
        def form(s: Session, p: Principal) -> talent_pb2.FileResponse:
            name, content = self.documents.form(s, p, request.id)
            return talent_pb2.FileResponse(filename=name, content_type=DOCX_TYPE, content=content)

        return self._run(context, form)

    def GetStats(self, request: talent_pb2.StatsRequest, context: Ctx) -> talent_pb2.StatsResponse:
        def stats(s: Session, p: Principal) -> talent_pb2.StatsResponse:
            r = self.talents.stats(s, p)
            return talent_pb2.StatsResponse(
                own=talent_pb2.TenantQuota(**r["own"]),
                children=[talent_pb2.TenantQuota(**c) for c in r["children"]],
            )

        return self._run(context, stats)

    def SetQuota(self, request: talent_pb2.SetQuotaRequest, context: Ctx) -> talent_pb2.TenantQuota:
        return self._run(
            context,
            lambda s, p: talent_pb2.TenantQuota(
                **self.talents.set_quota(s, p, request.tenant_id, request.quota)
            ),
        )

    def AddArchiveEntry(
        self, request: talent_pb2.AddArchiveEntryRequest, context: Ctx
    ) -> talent_pb2.ArchiveEntry:
        return self._run(
            context,
            lambda s, p: talent_pb2.ArchiveEntry(
                **self.archive.add_entry(
                    s,
                    p,
                    request.talent_id,
                    request.kind,
                    request.title,
                    request.occurred_on,
                    request.hours,
                    request.description,
                )
            ),
        )

    def GetArchive(self, request: talent_pb2.GetArchiveRequest, context: Ctx) -> talent_pb2.Archive:
        def get(s: Session, p: Principal) -> talent_pb2.Archive:
            r = self.archive.get(s, p, request.talent_id)
            return talent_pb2.Archive(
                entries=[talent_pb2.ArchiveEntry(**e) for e in r["entries"]],
                attachments=[talent_pb2.Attachment(**a) for a in r["attachments"]],
            )

        return self._run(context, get)

    def UploadAttachment(
        self, request: talent_pb2.UploadAttachmentRequest, context: Ctx
    ) -> talent_pb2.Attachment:
        return self._run(
            context,
            lambda s, p: talent_pb2.Attachment(
                **self.archive.upload(s, p, request.talent_id, request.filename, request.content)
            ),
        )

    def GetAttachment(
        self, request: talent_pb2.GetAttachmentRequest, context: Ctx
    ) -> talent_pb2.FileResponse:
        def download(s: Session, p: Principal) -> talent_pb2.FileResponse:
            meta, content = self.archive.download(s, p, request.talent_id, request.attachment_id)
            return talent_pb2.FileResponse(
                filename=meta["filename"], content_type=meta["content_type"], content=content
            )

        return self._run(context, download)

    # --- partners (consent, the partner view, financing outcomes) ---

    def CreateConsent(
        self, request: consent_pb2.CreateConsentRequest, context: Ctx
    ) -> consent_pb2.Consent:
        def fn(s: Session, p: Principal) -> consent_pb2.Consent:
            partner.CONSENTS.check_subject_type(request.subject_type)
            return partner.create_consent(
                s,
                p,
                request.subject_id,
                request.partner_client_id,
                request.partner_tenant_path,
                request.purpose,
                request.expires_at,
            )

        return self._run(context, fn)

    def ListConsents(
        self, request: consent_pb2.ListConsentsRequest, context: Ctx
    ) -> consent_pb2.ListConsentsResponse:
        def fn(s: Session, p: Principal) -> consent_pb2.ListConsentsResponse:
            partner.CONSENTS.check_subject_type(request.subject_type)
            rows = partner.list_consents(s, p, request.subject_id)
            return consent_pb2.ListConsentsResponse(consents=rows)

        return self._run(context, fn)

    def ListTenantConsents(
        self, request: consent_pb2.ListTenantConsentsRequest, context: Ctx
    ) -> consent_pb2.ListConsentsResponse:
        def fn(s: Session, p: Principal) -> consent_pb2.ListConsentsResponse:
            partner.CONSENTS.check_subject_type(request.subject_type)
            rows, total = partner.tenant_consents(s, p, request.limit or 20, request.offset)
            return consent_pb2.ListConsentsResponse(consents=rows, total=total)

        return self._run(context, fn)

    def RevokeConsent(
        self, request: consent_pb2.RevokeConsentRequest, context: Ctx
    ) -> consent_pb2.Consent:
        def fn(s: Session, p: Principal) -> consent_pb2.Consent:
            partner.CONSENTS.check_subject_type(request.subject_type)
            return partner.revoke_consent(s, p, request.subject_id, request.consent_id)

        return self._run(context, fn)

    def ListFinancing(
        self, request: talent_pb2.ListFinancingRequest, context: Ctx
    ) -> talent_pb2.ListFinancingResponse:
        return self._run(
            context,
            lambda s, p: talent_pb2.ListFinancingResponse(
                outcomes=partner.list_financing(s, p, request.talent_id)
            ),
        )

    def ListPartnerTalents(
        self, request: talent_pb2.ListPartnerTalentsRequest, context: Ctx
    ) -> talent_pb2.ListPartnerTalentsResponse:
        return self._run_partner(
            context,
            lambda s, p: partner.list_for_partner(s, p, request.page, request.page_size),
        )

    def RecordFinancing(
        self, request: talent_pb2.RecordFinancingRequest, context: Ctx
    ) -> talent_pb2.FinancingOutcome:
        return self._run_partner(
            context,
            lambda s, p: partner.record_financing(
                s,
                p,
                request.talent_id,
                request.product,
                request.amount_yuan,
                request.status,
                request.decided_at,
                request.idempotency_key,
            ),
        )
