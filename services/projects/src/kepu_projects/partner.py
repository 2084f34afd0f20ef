"""Partners 合作机构 (banks, seed 000 "银会合作") and the project library.

- Consent 授权: the project's tenant (or an ancestor admin) records that the applicant unit
  agreed to share minimal project data with one partner, for a purpose, until a date
  (identity's policy, ``kepu_identity.consent``; the ledger is ``CONSENTS``).
- The partner view: library projects (approved 入库 or later) with a live consent for the
  calling partner, minimal fields (never the contact phone), every returned record
  audit-logged (``partner_access_log`` + an outbox event).
- Notices: a consented project approved (or a consent recorded for a library project) gives a
  ``projects.partner_notice`` per partner in the same transaction; the identity worker turns
  it into a signed webhook (``project.approved``).

Partners are identified by the verified token only: ``azp`` (client id), the ``partner`` role,
the granted ``scope`` and the registering tenant's path.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from kepu.partner.v1 import consent_pb2
from kepu.projects.v1 import projects_pb2 as pb
from kepu_common import outbox
from kepu_common.consent import LIVE, require_partner, require_staff
from kepu_common.errors import Conflict, InvalidArgument, NotFound, PermissionDenied
from kepu_common.tenancy import Principal, is_descendant_or_self
from kepu_common.times import shanghai_iso as _iso  # Beijing time, with its offset
from kepu_identity.consent import consent_expiry, consent_purpose
from sqlalchemy import text
from sqlalchemy.orm import Session

from . import domain
from . import repository as repo
from .models import CONSENTS, Project

TOPIC = "projects.events"
NOTICE = "projects.partner_notice"
NOTICE_EVENT = "project.approved"
READ_SCOPE = "partner:projects:read"
CONSENT_ROLES = frozenset({"admin"})


# --- rules (no I/O) -------------------------------------------------------------------


def implementation_months(start_month: str, end_month: str) -> int:
    """实施周期: months from start to end, both included (0 when unknown)."""
    try:
        sy, sm = (int(x) for x in start_month.split("-"))
        ey, em = (int(x) for x in end_month.split("-"))
    except ValueError:
        return 0
    return max((ey - sy) * 12 + em - sm + 1, 0)


# --- SQL ------------------------------------------------------------------------------

PARTNER_PROJECT_COLS = (
    "p.id::text AS id, p.tenant_id::text AS tenant_id, p.tenant_path::text AS tenant_path,"
    " p.name, p.category, p.applicant_unit, p.tenant_name AS region_name,"
    " subpath(p.tenant_path, nlevel(p.tenant_path) - 1)::text AS region_code, p.status,"
    " coalesce(p.library_no, '') AS library_no, p.start_month, p.end_month, p.budget,"
    " p.approved_at"
)
LIVE_FOR_PARTNER = (
    "FROM project_consents c JOIN projects p ON p.id = c.project_id"
    f" WHERE c.partner_client_id = :cid AND {LIVE}"
    " AND c.partner_tenant_path = CAST(:pp AS ltree) AND p.tenant_path <@ CAST(:pp AS ltree)"
    " AND p.status = ANY(:lib)"
)


def partner_project_pb(r: Any) -> pb.PartnerProject:
    return pb.PartnerProject(
        id=r.id,
        name=r.name,
        category=r.category,
        category_label=domain.CATEGORY_CN.get(r.category, r.category),
        applicant_unit=r.applicant_unit,
        region_name=r.region_name,
        region_code=r.region_code,
        status=r.status,
        status_label=domain.STATUS_CN.get(r.status, r.status),
        library_no=r.library_no or "",
        start_month=r.start_month,
        end_month=r.end_month,
        implementation_months=implementation_months(r.start_month, r.end_month),
        budget=f"{r.budget:.2f}" if r.budget is not None else "",
        approved_at=_iso(r.approved_at),
    )


def _load(s: Session, p: Principal, project_id: str, *, lock: bool = False) -> Project:
    domain.check_uuid(project_id, "项目")
    project = repo.get_project(s, p.tenant_path, project_id, lock=lock)
    if project is None:
        raise NotFound("未找到该项目，或无权查看。")
    return project


def _record(
    s: Session, p: Principal, project: Project, event_type: str, msg: consent_pb2.Consent
) -> None:
    outbox.record_event(
        s,
        topic=TOPIC,
        event_type=event_type,
        tenant_id=project.tenant_id,
        tenant_path=project.tenant_path,
        actor=p.subject,
        payload=msg,
    )


# --- consent (the project's tenant or an ancestor admin) ------------------------------


def create_consent(
    s: Session,
    p: Principal,
    now: datetime,
    project_id: str,
    partner_client_id: str,
    partner_tenant_path: str,
    purpose: str,
    expires_at: str,
) -> consent_pb2.Consent:
    require_staff(p)
    domain.check_role(p.roles, CONSENT_ROLES, "登记合作机构授权")
    text_purpose = consent_purpose(purpose)
    expires = consent_expiry(expires_at, now)
    if not partner_client_id or not partner_tenant_path:
        raise InvalidArgument("请指定合作机构。", field="partner_client_id")
    project = _load(s, p, project_id, lock=True)
    if not is_descendant_or_self(project.tenant_path, partner_tenant_path):
        raise PermissionDenied("该合作机构不是本项目所属科协或其上级科协登记的，不能授权。")
    # A new consent for the same partner replaces the open one (new purpose or term).
    consent_id = str(uuid.uuid4())
    CONSENTS.grant(
        s,
        consent_id=consent_id,
        subject_id=project.id,
        tenant_path=project.tenant_path,
        partner_client_id=partner_client_id,
        partner_tenant_path=partner_tenant_path,
        purpose=text_purpose,
        expires_at=expires,
        by=p.subject,
        username=p.username,
        now=now,
    )
    created = CONSENTS.get(s, p.tenant_path, project.id, consent_id, now)
    assert created is not None
    msg = CONSENTS.message(created)
    _record(s, p, project, "projects.consent_granted", msg)
    if project.status in domain.LIBRARY_STATES:  # already in the library: tell the partner now
        write_partner_notices(s, p, project, now)
    return msg


def list_consents(
    s: Session, p: Principal, now: datetime, project_id: str
) -> list[consent_pb2.Consent]:
    require_staff(p)
    project = _load(s, p, project_id)
    return [CONSENTS.message(r) for r in CONSENTS.of_subject(s, p.tenant_path, project.id, now)]


def tenant_consents(
    s: Session, p: Principal, now: datetime, limit: int, offset: int
) -> tuple[list[consent_pb2.Consent], int]:
    """A page of the consents recorded in the caller's subtree, each with its project's name."""
    require_staff(p)
    if not 1 <= limit <= 200 or not 0 <= offset <= 1_000_000:
        raise InvalidArgument("分页参数不正确（每页1到200条）。", field="page_size")
    rows, total = CONSENTS.of_tenant(s, p.tenant_path, now, limit=limit, offset=offset)
    return [CONSENTS.message(r) for r in rows], total


def revoke_consent(
    s: Session, p: Principal, now: datetime, project_id: str, consent_id: str
) -> consent_pb2.Consent:
    require_staff(p)
    domain.check_role(p.roles, CONSENT_ROLES, "撤回合作机构授权")
    project = _load(s, p, project_id)
    c = CONSENTS.get(s, p.tenant_path, project.id, domain.check_uuid(consent_id, "授权记录"), now)
    if c is None:
        raise NotFound("授权记录不存在或不在您的管辖范围内。")
    if c.revoked_at is not None:
        raise Conflict("该授权已经撤回。")
    CONSENTS.revoke(s, c.id, p.username, now)
    revoked = CONSENTS.get(s, p.tenant_path, project.id, c.id, now)
    msg = CONSENTS.message(revoked)
    _record(s, p, project, "projects.consent_revoked", msg)
    return msg


# --- the partner view -----------------------------------------------------------------


def list_for_partner(
    s: Session, p: Principal, now: datetime, page: int, page_size: int
) -> pb.ListPartnerProjectsResponse:
    """Library projects consented to the calling partner (the session is scoped to the
    partner's registering tenant, so RLS bounds it as well)."""
    require_partner(p, READ_SCOPE)
    page = max(page or 1, 1)
    page_size = min(max(page_size or 20, 1), 100)
    params: dict[str, Any] = {
        "cid": p.client_id,
        "pp": p.tenant_path,
        "now": now,
        "lib": list(domain.LIBRARY_STATES),
    }
    total = s.execute(text(f"SELECT count(*) {LIVE_FOR_PARTNER}"), params).scalar_one()
    rows = list(
        s.execute(
            text(
                f"SELECT {PARTNER_PROJECT_COLS} {LIVE_FOR_PARTNER}"
                " ORDER BY p.approved_at DESC NULLS LAST, p.id LIMIT :n OFFSET :o"
            ),
            {**params, "n": page_size, "o": (page - 1) * page_size},
        )
    )
    log_access(s, p, rows, "list")
    return pb.ListPartnerProjectsResponse(
        projects=[partner_project_pb(r) for r in rows],
        total=int(total),
        page=page,
        page_size=page_size,
    )


def log_access(s: Session, p: Principal, rows: list[Any], action: str) -> None:
    """Every record a partner received: one audit row each, one event per batch."""
    if not rows:
        return
    s.execute(
        text(
            "INSERT INTO partner_access_log (project_id, tenant_path, partner_client_id, action)"
            " VALUES (CAST(:pid AS uuid), CAST(:path AS ltree), :c, :a)"
        ),
        [{"pid": r.id, "path": r.tenant_path, "c": p.client_id, "a": action} for r in rows],
    )
    outbox.record_event(
        s,
        topic=TOPIC,
        event_type="projects.partner_accessed",
        tenant_id=p.tenant_id,
        tenant_path=p.tenant_path,
        actor=p.subject,
        payload=pb.PartnerAccessed(
            partner_client_id=p.client_id, project_ids=[r.id for r in rows], action=action
        ),
    )


# --- notices (project.approved) for partners with a live consent ----------------------


def write_partner_notices(s: Session, p: Principal, project: Project, now: datetime) -> int:
    """In the caller's transaction: a ``projects.partner_notice`` for every live consent of a
    library project whose partner has not been told yet."""
    if project.status not in domain.LIBRARY_STATES:
        return 0
    rows = list(
        s.execute(
            text(
                f"SELECT {PARTNER_PROJECT_COLS}, c.id::text AS consent_id, c.partner_client_id"
                " FROM project_consents c JOIN projects p ON p.id = c.project_id"
                f" WHERE c.project_id = CAST(:pid AS uuid) AND {LIVE} AND c.notified_at IS NULL"
                " AND c.tenant_path <@ CAST(:scope AS ltree) FOR UPDATE OF c"
            ),
            {"pid": project.id, "now": now, "scope": p.tenant_path},
        )
    )
    for r in rows:
        outbox.record_event(
            s,
            topic=TOPIC,
            event_type=NOTICE,
            tenant_id=project.tenant_id,
            tenant_path=project.tenant_path,
            actor=p.subject,
            payload=pb.PartnerNotice(
                partner_client_id=r.partner_client_id,
                event=NOTICE_EVENT,
                consent_id=r.consent_id,
                project=partner_project_pb(r),
                occurred_at=_iso(now),
            ),
        )
        s.execute(
            text("UPDATE project_consents SET notified_at = :now WHERE id = CAST(:id AS uuid)"),
            {"now": now, "id": r.consent_id},
        )
    return len(rows)
