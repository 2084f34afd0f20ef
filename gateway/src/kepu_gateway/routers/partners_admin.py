"""Partner administration 合作机构管理 (identity) and talent consent 个人信息授权 (talent).

A province or city admin registers a bank, gets its client credentials and webhook secret
once, rotates or disables it. The talent's association records (and revokes) the talent's
consent to share with a partner; the partner must be registered by the talent's tenant or an
ancestor, which identity resolves before the talent service records the consent.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from kepu.identity.v1 import identity_pb2 as ipb
from kepu.identity.v1 import identity_pb2_grpc as ipbg
from kepu.partner.v1 import consent_pb2 as cpb
from kepu.projects.v1 import projects_pb2_grpc as ppbg
from kepu.talent.v1 import talent_pb2 as tpb
from kepu.talent.v1 import talent_pb2_grpc as tpbg
from pydantic import BaseModel, ConfigDict, Field, create_model

from ..consents import (
    PROJECT,
    TALENT,
    ProjectConsents,
    TalentConsent,
    TalentConsents,
    consent_out,
    consents_out,
)
from ..deps import Caller, current_caller
from ..grpc_clients import call, stub
from ..messages import as_dict as out
from ..messages import list_of, model
from ..problems import Problem

router = APIRouter(tags=["partners"])

PartnerScope = Literal["partner:talents:read", "partner:projects:read", "partner:financing:write"]
Event = Literal["talent.certified", "talent.revoked", "project.approved"]


async def staff_caller(caller: Annotated[Caller, Depends(current_caller)]) -> Caller:
    """Association staff only: a partner's token works on /partner/v1 alone."""
    if "partner" in caller.principal.roles:
        raise Problem(403, "合作机构的令牌只能访问 /partner/v1 接口。")
    return caller


StaffDep = Annotated[Caller, Depends(staff_caller)]


def partners() -> ipbg.PartnerServiceStub:
    return stub("identity", ipbg.PartnerServiceStub)


def talents() -> tpbg.TalentServiceStub:
    return stub("talent", tpbg.TalentServiceStub)


class PartnerIn(BaseModel):
    """登记合作机构（如邮储银行分行）。"""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=2, max_length=100, title="合作机构名称")
    scopes: list[PartnerScope] = Field(min_length=1, max_length=3, title="接口权限")
    webhook_url: str = Field("", max_length=500, title="回调地址", description="http/https，可选")
    events: list[Event] = Field(default_factory=list, max_length=3, title="订阅事件")


class ConsentIn(BaseModel):
    """本人同意向合作机构提供个人信息（《个人信息保护法》第二十三条）。"""

    model_config = ConfigDict(extra="forbid")
    partner_client_id: str = Field(
        min_length=1, max_length=64, title="合作机构", description="合作机构的 client_id"
    )
    purpose: str = Field(
        min_length=1, max_length=500, title="授权用途", description="如“银会合作融资服务”"
    )
    expires_at: dt.date = Field(title="授权到期日期", description="YYYY-MM-DD（晚于今天，最长3年）")


SECRETS_NOTICE = "client_secret 和 webhook_secret 只显示这一次，请立即妥善保存。"
Credentials = create_model(
    "PartnerCredentialsOut",
    __base__=model(ipb.PartnerCredentials),
    notice=(str, Field(description="一次性凭据的提示")),
)
RotatedCredentials = create_model(
    "RotatedPartnerCredentialsOut",
    __base__=model(ipb.PartnerCredentials),
    webhook_secret=(str | None, Field(default=None, exclude=True)),
    notice=(str, Field(description="一次性凭据的提示")),
)


def credentials_out(res: ipb.PartnerCredentials) -> dict[str, Any]:
    body = out(res)
    body["notice"] = SECRETS_NOTICE
    return body


@router.post(
    "/api/v1/partners",
    response_model=Credentials,
    status_code=201,
    summary="登记合作机构（返回一次性凭据）",
)
async def register_partner(body: PartnerIn, caller: StaffDep) -> dict[str, Any]:
    request = ipb.RegisterPartnerRequest(
        name=body.name,
        scopes=list(dict.fromkeys(body.scopes)),
        webhook_url=body.webhook_url,
        events=list(dict.fromkeys(body.events)),
    )
    return credentials_out(await call(partners().RegisterPartner, request, caller))


@router.get(
    "/api/v1/partners",
    response_model=list_of(ipb.Partner),
    summary="本单位登记的合作机构（不含密钥）",
)
async def list_partners(caller: StaffDep) -> list[dict[str, Any]]:
    res = await call(partners().ListPartners, ipb.ListPartnersRequest(), caller)
    return [out(p) for p in res.partners]


@router.post(
    "/api/v1/partners/{client_id}/rotate-secret",
    response_model=RotatedCredentials,
    summary="重置合作机构的客户端密钥",
)
async def rotate_secret(client_id: str, caller: StaffDep) -> dict[str, Any]:
    res = await call(partners().RotatePartnerSecret, ipb.PartnerRef(client_id=client_id), caller)
    body = credentials_out(res)
    body.pop("webhook_secret", None)
    return body


@router.delete(
    "/api/v1/partners/{client_id}", response_model=model(ipb.Partner), summary="停用合作机构"
)
async def disable_partner(client_id: str, caller: StaffDep) -> dict[str, Any]:
    return out(await call(partners().DisablePartner, ipb.PartnerRef(client_id=client_id), caller))


@router.post(
    "/api/v1/talents/{talent_id}/consents",
    response_model=TalentConsent,
    status_code=201,
    summary="登记个人信息授权（合作机构）",
)
async def create_consent(talent_id: str, body: ConsentIn, caller: StaffDep) -> dict[str, Any]:
    partner = await call(
        partners().ResolvePartner, ipb.PartnerRef(client_id=body.partner_client_id), caller
    )
    request = cpb.CreateConsentRequest(
        subject_type=TALENT.type,
        subject_id=talent_id,
        partner_client_id=partner.client_id,
        partner_tenant_path=partner.tenant_path,
        purpose=body.purpose,
        expires_at=body.expires_at.isoformat(),
    )
    return consent_out(await call(talents().CreateConsent, request, caller), TALENT)


Page = Annotated[int, Query(ge=1, le=100_000, title="页码")]
PageSize = Annotated[int, Query(ge=1, le=200, title="每页条数")]


@router.get(
    "/api/v1/consents/talents",
    response_model=TalentConsents,
    summary="本单位及下级登记的个人信息授权（分页，最新的在前）",
)
async def tenant_talent_consents(caller: StaffDep, page: Page = 1, page_size: PageSize = 20) -> Any:
    req = cpb.ListTenantConsentsRequest(
        subject_type=TALENT.type, limit=page_size, offset=(page - 1) * page_size
    )
    return consents_out(await call(talents().ListTenantConsents, req, caller), TALENT)


@router.get(
    "/api/v1/consents/projects",
    response_model=ProjectConsents,
    summary="本单位及下级登记的项目信息授权（分页，最新的在前）",
)
async def tenant_project_consents(
    caller: StaffDep, page: Page = 1, page_size: PageSize = 20
) -> Any:
    req = cpb.ListTenantConsentsRequest(
        subject_type=PROJECT.type, limit=page_size, offset=(page - 1) * page_size
    )
    res = await call(stub("projects", ppbg.ProjectsServiceStub).ListTenantConsents, req, caller)
    return consents_out(res, PROJECT)


@router.get(
    "/api/v1/talents/{talent_id}/consents",
    response_model=list[TalentConsent],  # type: ignore[valid-type]
    summary="个人信息授权记录",
)
async def list_consents(talent_id: str, caller: StaffDep) -> list[dict[str, Any]]:
    request = cpb.ListConsentsRequest(subject_type=TALENT.type, subject_id=talent_id)
    res = await call(talents().ListConsents, request, caller)
    return [consent_out(c, TALENT) for c in res.consents]


@router.delete(
    "/api/v1/talents/{talent_id}/consents/{consent_id}",
    response_model=TalentConsent,
    summary="撤回个人信息授权",
)
async def revoke_consent(talent_id: str, consent_id: str, caller: StaffDep) -> dict[str, Any]:
    request = cpb.RevokeConsentRequest(
        subject_type=TALENT.type, subject_id=talent_id, consent_id=consent_id
    )
    return consent_out(await call(talents().RevokeConsent, request, caller), TALENT)


@router.get(
    "/api/v1/talents/{talent_id}/financing",
    response_model=list_of(tpb.FinancingOutcome),
    summary="合作机构回传的融资结果",
)
async def list_financing(talent_id: str, caller: StaffDep) -> list[dict[str, Any]]:
    res = await call(talents().ListFinancing, tpb.ListFinancingRequest(talent_id=talent_id), caller)
    return [out(o) for o in res.outcomes]
