"""gRPC servicer: proto <-> use cases, domain errors -> status codes, nothing else."""

from __future__ import annotations

from typing import Any, TypeAlias

import grpc
from kepu.talent.v1 import talent_pb2, talent_pb2_grpc
from kepu_common.auth import TokenVerifier
from kepu_common.consent import require_staff
from kepu_common.grpcio import Servicer

from .archive import ArchiveService
from .documents import Documents
from .docx import DOCX_TYPE
from .partner import TalentPartners
from .service import TalentService
from .xlsx import XLSX_TYPE

Ctx: TypeAlias = grpc.ServicerContext


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
        talents: TalentService,
        documents: Documents,
        archive: ArchiveService,
    ) -> None:
        super().__init__(verifier)
        self.talents = talents
        self.documents = documents
        self.archive = archive
        self.partners = TalentPartners(talents)

    def run(self, context: Ctx, fn: Any) -> Any:
        return self.call(context, lambda: fn(self.staff(context)))

    def staff(self, context: Ctx) -> Any:
        """Association staff only: a partner's token works on the partner RPCs alone."""
        p = self.principal(context)
        require_staff(p)
        return p

    def notified(self, p: Any, result: Any) -> Any:
        """After a committed status change: notices for partners with a live consent."""
        self.partners.notify_quietly(p)
        return result

    def CreateTalent(
        self, request: talent_pb2.CreateTalentRequest, context: Ctx
    ) -> talent_pb2.Talent:
        return self.run(
            context,
            lambda p: talent_message(
                self.talents.create(p, input_dict(request.fields), request.tenant_id)
            ),
        )

    def UpdateTalent(
        self, request: talent_pb2.UpdateTalentRequest, context: Ctx
    ) -> talent_pb2.Talent:
        return self.run(
            context,
            lambda p: talent_message(
                self.talents.update(p, request.id, input_dict(request.fields))
            ),
        )

    def GetTalent(self, request: talent_pb2.GetTalentRequest, context: Ctx) -> talent_pb2.Talent:
        return self.run(
            context,
            lambda p: talent_message(self.talents.get(p, request.id, reveal=request.reveal)),
        )

    def ListTalents(
        self, request: talent_pb2.ListTalentsRequest, context: Ctx
    ) -> talent_pb2.ListTalentsResponse:
        def list_(p: Any) -> Any:
            r = self.talents.search(
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

        return self.run(context, list_)

    def Recommend(self, request: talent_pb2.RecommendRequest, context: Ctx) -> talent_pb2.Talent:
        return self.run(
            context,
            lambda p: talent_message(self.talents.recommend(p, request.id, request.opinion)),
        )

    def Review(self, request: talent_pb2.ReviewRequest, context: Ctx) -> talent_pb2.Talent:
        return self.run(
            context,
            lambda p: self.notified(
                p,
                talent_message(
                    self.talents.review(p, request.id, request.decision, request.opinion)
                ),
            ),
        )

    def BulkReview(
        self, request: talent_pb2.BulkReviewRequest, context: Ctx
    ) -> talent_pb2.BulkReviewResponse:
        def bulk(p: Any) -> Any:
            results = self.talents.bulk_review(
                p, list(request.ids), request.decision, request.opinion
            )
            ok = sum(1 for r in results if r["ok"])
            self.notified(p, None)
            return talent_pb2.BulkReviewResponse(
                results=[talent_pb2.BulkReviewResult(**r) for r in results],
                succeeded=ok,
                failed=len(results) - ok,
            )

        return self.run(context, bulk)

    def ChangeLifecycle(
        self, request: talent_pb2.LifecycleRequest, context: Ctx
    ) -> talent_pb2.Talent:
        return self.run(
            context,
            lambda p: self.notified(
                p,
                talent_message(
                    self.talents.change_lifecycle(p, request.id, request.action, request.reason)
                ),
            ),
        )

    def StartImport(self, request: talent_pb2.ImportRequest, context: Ctx) -> talent_pb2.ImportJob:
        return self.run(
            context,
            lambda p: job_message(
                self.documents.start_import(
                    p,
                    request.content,
                    request.filename,
                    request.mode,
                    request.tenant_id,
                    request.wait,
                )
            ),
        )

    def GetImport(self, request: talent_pb2.GetImportRequest, context: Ctx) -> talent_pb2.ImportJob:
        return self.run(context, lambda p: job_message(self.documents.get_import(p, request.id)))

    def Export(self, request: talent_pb2.ExportRequest, context: Ctx) -> talent_pb2.FileResponse:
        def export(p: Any) -> Any:
            name, content = self.documents.export(
                p,
                request.tenant_id,
                request.layout,
                request.status,
                request.reveal,
                template=request.template,
            )
            return talent_pb2.FileResponse(filename=name, content_type=XLSX_TYPE, content=content)

        return self.run(context, export)

    def RenderForm(
        self, request: talent_pb2.RenderFormRequest, context: Ctx
    ) -> talent_pb2.FileResponse:
        def form(p: Any) -> Any:
            name, content = self.documents.form(p, request.id)
            return talent_pb2.FileResponse(filename=name, content_type=DOCX_TYPE, content=content)

        return self.run(context, form)

    def GetStats(self, request: talent_pb2.StatsRequest, context: Ctx) -> talent_pb2.StatsResponse:
        def stats(p: Any) -> Any:
            r = self.talents.stats(p)
            return talent_pb2.StatsResponse(
                own=talent_pb2.TenantQuota(**r["own"]),
                children=[talent_pb2.TenantQuota(**c) for c in r["children"]],
            )

        return self.run(context, stats)

    def SetQuota(self, request: talent_pb2.SetQuotaRequest, context: Ctx) -> talent_pb2.TenantQuota:
        return self.run(
            context,
            lambda p: talent_pb2.TenantQuota(
                **self.talents.set_quota(p, request.tenant_id, request.quota)
            ),
        )

    def AddArchiveEntry(
        self, request: talent_pb2.AddArchiveEntryRequest, context: Ctx
    ) -> talent_pb2.ArchiveEntry:
        return self.run(
            context,
            lambda p: talent_pb2.ArchiveEntry(
                **self.archive.add_entry(
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
        def get(p: Any) -> Any:
            r = self.archive.get(p, request.talent_id)
            return talent_pb2.Archive(
                entries=[talent_pb2.ArchiveEntry(**e) for e in r["entries"]],
                attachments=[talent_pb2.Attachment(**a) for a in r["attachments"]],
            )

        return self.run(context, get)

    def UploadAttachment(
        self, request: talent_pb2.UploadAttachmentRequest, context: Ctx
    ) -> talent_pb2.Attachment:
        return self.run(
            context,
            lambda p: talent_pb2.Attachment(
                **self.archive.upload(p, request.talent_id, request.filename, request.content)
            ),
        )

    def GetAttachment(
        self, request: talent_pb2.GetAttachmentRequest, context: Ctx
    ) -> talent_pb2.FileResponse:
        def download(p: Any) -> Any:
            meta, content = self.archive.download(p, request.talent_id, request.attachment_id)
            return talent_pb2.FileResponse(
                filename=meta["filename"], content_type=meta["content_type"], content=content
            )

        return self.run(context, download)

    # --- partners (consent, the partner view, financing outcomes) ---

    def CreateConsent(
        self, request: talent_pb2.CreateConsentRequest, context: Ctx
    ) -> talent_pb2.Consent:
        return self.run(
            context,
            lambda p: self.partners.create_consent(
                p,
                request.talent_id,
                request.partner_client_id,
                request.partner_tenant_path,
                request.purpose,
                request.expires_at,
            ),
        )

    def ListConsents(
        self, request: talent_pb2.ListConsentsRequest, context: Ctx
    ) -> talent_pb2.ListConsentsResponse:
        return self.run(
            context,
            lambda p: talent_pb2.ListConsentsResponse(
                consents=self.partners.list_consents(p, request.talent_id)
            ),
        )

    def RevokeConsent(
        self, request: talent_pb2.RevokeConsentRequest, context: Ctx
    ) -> talent_pb2.Consent:
        return self.run(
            context,
            lambda p: self.partners.revoke_consent(p, request.talent_id, request.consent_id),
        )

    def ListFinancing(
        self, request: talent_pb2.ListFinancingRequest, context: Ctx
    ) -> talent_pb2.ListFinancingResponse:
        return self.run(
            context,
            lambda p: talent_pb2.ListFinancingResponse(
                outcomes=self.partners.list_financing(p, request.talent_id)
            ),
        )

    def ListPartnerTalents(
        self, request: talent_pb2.ListPartnerTalentsRequest, context: Ctx
    ) -> talent_pb2.ListPartnerTalentsResponse:
        return self.call(
            context,
            lambda: self.partners.list_for_partner(
                self.principal(context), request.page, request.page_size
            ),
        )

    def RecordFinancing(
        self, request: talent_pb2.RecordFinancingRequest, context: Ctx
    ) -> talent_pb2.FinancingOutcome:
        return self.call(
            context,
            lambda: self.partners.record_financing(
                self.principal(context),
                request.talent_id,
                request.product,
                request.amount_yuan,
                request.status,
                request.decided_at,
                request.idempotency_key,
            ),
        )
