"""Use cases of the talent pool. Each takes the unit of work's session first (the edge, the
gRPC servicer, owns the transaction), applies the domain rules and writes the state change
and its event together; none opens a unit of work or commits.

Longer than ~400 lines on purpose: the records, the review chain and the quota progress of one
aggregate share the tenant, chain and view helpers here. Personal data is ``personal.py``,
partners ``partner.py``, the files ``documents.py`` and ``imports.py``."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kepu.talent.v1 import talent_pb2
from kepu_common.errors import (
    AlreadyExists,
    DomainError,
    FieldViolation,
    InvalidArgument,
    NotFound,
    PermissionDenied,
)
from kepu_common.masking import mask_birth_month
from kepu_common.tenancy import Principal
from kepu_common.times import shanghai_iso
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from . import domain, events, fields, personal, repository
from .crypto import KeyRing
from .events import TOPIC as TOPIC
from .notices import write_partner_notices
from .settings import TalentSettings

PERSONAL_FIELDS = personal.PERSONAL_FIELDS
WRITE_ROLES = domain.WRITE_ROLES


@dataclass(frozen=True)
class Owner:
    id: str
    path: str
    kind: str
    name: str


def parse_id(value: str, what: str = "人才") -> str:
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise NotFound(f"{what}不存在（编号格式不正确）。") from None


def inferred_kind(path: str) -> str:
    return {1: "province", 2: "city", 3: "county"}.get(len(path.split(".")), "township")


def iso(value: Any) -> str:
    """Times in responses: ISO 8601, Asia/Shanghai, with the offset (dates stay dates)."""
    return shanghai_iso(value) if value else ""


def load_talent(s: Session, principal: Principal, talent_id: str, *, lock: bool = False) -> Any:
    """A talent of the caller's subtree (locked with ``lock``), else 404."""
    row = repository.get_talent(s, principal.tenant_path, parse_id(talent_id), lock=lock)
    if row is None:
        raise NotFound("人才不存在或不在您的管辖范围内。")
    return row


class TalentService:
    """The talent pool's use cases with what they need beyond the session: the key ring
    that seals personal data and the settings (quotas)."""

    def __init__(self, keys: KeyRing, settings: TalentSettings) -> None:
        self.keys = keys
        self.settings = settings

    # --- shared helpers ----------------------------------------------------------

    def resolve_tenant(self, s: Session, principal: Principal, tenant_id: str) -> Owner:
        """A tenant of the caller's subtree (the caller's own when ``tenant_id`` is empty)."""
        if not tenant_id or tenant_id == principal.tenant_id:
            row = repository.tenant_by_path(s, principal.tenant_path)
            if row is None:  # the read model may lag behind identity: trust the token
                return Owner(
                    principal.tenant_id,
                    principal.tenant_path,
                    principal.tenant_kind or inferred_kind(principal.tenant_path),
                    "",
                )
            return Owner(str(row.id), row.path, row.kind, row.name)
        row = repository.tenant_by_id(s, parse_id(tenant_id, "单位"))
        if row is None or not principal.sees(row.path):
            raise NotFound("单位不存在或不在您的管辖范围内。")
        return Owner(str(row.id), row.path, row.kind, row.name)

    def owner_for_write(self, s: Session, principal: Principal, tenant_id: str) -> Owner:
        if not principal.roles & WRITE_ROLES:
            raise PermissionDenied("您的角色只能查看，不能录入人才。")
        owner = self.resolve_tenant(s, principal, tenant_id)
        domain.check_can_own(owner.kind)
        return owner

    def chain_of(self, s: Session, row: Any, kinds: dict[str, str] | None = None) -> domain.Chain:
        """The review chain of ``row``; ``kinds`` (from ``chain_kinds``) saves the query."""
        if kinds is None:
            kinds = self.chain_kinds(s, [row])
        owner_kind = kinds.get(row.tenant_path) or inferred_kind(row.tenant_path)
        return domain.build_chain(row.tenant_path, owner_kind, kinds)

    def chain_kinds(self, s: Session, rows: Iterable[Any]) -> dict[str, str]:
        """The kinds of the tenants on the chains of ``rows`` (owner and city), in one query."""
        paths: list[str] = []
        for row in rows:
            labels = row.tenant_path.split(".")
            paths += [row.tenant_path] + ([".".join(labels[:2])] if len(labels) >= 2 else [])
        return repository.kinds_of(s, paths)

    def load(self, s: Session, principal: Principal, talent_id: str, *, lock: bool = False) -> Any:
        return load_talent(s, principal, talent_id, lock=lock)

    def check_duplicates(
        self, s: Session, province: str, cols: dict[str, Any], exclude: str | None
    ) -> None:
        ids = [cols["id_number_hash"]] if cols["id_number_hash"] else []
        dup_ids, dup_np = repository.existing_fingerprints(
            s, province, ids, [cols["name_phone_hash"]], exclude
        )
        if dup_ids:
            raise AlreadyExists("全省已有相同身份证号的科普人才记录，不能重复录入。")
        if dup_np:
            raise AlreadyExists("全省已有姓名和联系电话都相同的科普人才记录，不能重复录入。")

    def status_event(
        self,
        s: Session,
        principal: Principal,
        row: Any,
        t: domain.Transition | None,
        event_type: str,
        certificate_no: str = "",
    ) -> None:
        payload = talent_pb2.TalentStatusChanged(
            talent_id=str(row.id),
            tenant_id=str(row.tenant_id),
            tenant_path=row.tenant_path,
            from_status=t.from_status.value if t else "",
            to_status=t.to_status.value if t else row.status,
            step=t.step if t else "",
            opinion=t.opinion if t else "",
            certificate_no=certificate_no,
            actor_tenant_path=principal.tenant_path,
            categories=list(row.categories),
        )
        events.record_for(s, principal, row, event_type, payload)

    def view(
        self,
        s: Session,
        principal: Principal,
        row: Any,
        *,
        reveal: bool = False,
        history: bool = False,
        names: dict[str, str] | None = None,
        kinds: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        values = {
            f.key: getattr(row, f.key) for f in fields.FIELDS if not (f.personal or f.multiple)
        }
        values["categories"] = list(row.categories)
        if reveal:
            values.update(personal.open_personal(self.keys, row))
        else:
            values.update(
                phone=row.phone_masked,
                email=row.email_masked,
                im_account=row.im_masked,
                id_number=row.id_number_masked,
                # with the birth month the masked number could be rebuilt: hidden with it
                birth_month=mask_birth_month(row.birth_month),
            )
        if names is None:
            names = repository.tenant_names(s, [str(row.tenant_id)])
        status = domain.Status(row.status)
        result: dict[str, Any] = {
            "id": str(row.id),
            "tenant_id": str(row.tenant_id),
            "tenant_path": row.tenant_path,
            "tenant_name": names.get(str(row.tenant_id), ""),
            "status": status.value,
            "status_label": domain.STATUS_LABELS[status],
            "fields": values,
            "revealed": reveal,
            "age": fields.age_from_birth_month(row.birth_month) or 0,
            "recommend_opinion": row.recommend_opinion,
            "city_opinion": row.city_opinion,
            "province_opinion": row.province_opinion,
            "reject_reason": row.reject_reason,
            "certificate_no": row.certificate_no or "",
            "certified_at": iso(row.certified_at),
            "source": row.source,
            "created_at": iso(row.created_at),
            "updated_at": iso(row.updated_at),
            "history": [],
            "allowed_actions": domain.allowed_actions(
                status, self.chain_of(s, row, kinds), principal
            ),
        }
        if history:
            result["history"] = [
                {
                    "step": h.step,
                    "from_status": h.from_status,
                    "to_status": h.to_status,
                    "opinion": h.opinion,
                    "actor": h.actor,
                    "actor_username": h.actor_username,
                    "actor_tenant_path": h.actor_tenant_path,
                    "at": iso(h.at),
                }
                for h in repository.reviews_of(s, principal.tenant_path, str(row.id))
            ]
        return result

    # --- records -----------------------------------------------------------------

    def validate(self, raw: dict[str, Any]) -> fields.TalentFields:
        record, errors = fields.clean_record(raw)
        if record is None:
            raise InvalidArgument(
                "；".join(e.message for e in errors) + "。",
                errors=[FieldViolation(e.field, e.message) for e in errors],
            )
        return record

    def create(
        self, s: Session, principal: Principal, raw: dict[str, Any], tenant_id: str = ""
    ) -> dict[str, Any]:
        record = self.validate(raw)
        talent_id = str(uuid.uuid4())
        owner = self.owner_for_write(s, principal, tenant_id)
        cols = personal.sealed_columns(self.keys, talent_id, record)
        province = owner.path.split(".")[0]
        self.check_duplicates(s, province, cols, None)
        values = personal.plain_values(record)
        repository.insert_talents(
            s,
            [
                {
                    **values,
                    **cols,
                    "id": talent_id,
                    "tenant_id": owner.id,
                    "tenant_path": owner.path,
                    "province": province,
                    "status": "draft",
                    "source": "form",
                    "created_by": principal.subject,
                }
            ],
        )
        try:
            s.flush()
        except IntegrityError:
            raise AlreadyExists("全省已有相同的科普人才记录，不能重复录入。") from None
        row = self.load(s, principal, talent_id)
        self.status_event(s, principal, row, None, "talent.created")
        return self.view(s, principal, row)

    def update(
        self, s: Session, principal: Principal, talent_id: str, raw: dict[str, Any]
    ) -> dict[str, Any]:
        record = self.validate(raw)
        row = self.load(s, principal, talent_id, lock=True)
        domain.check_can_edit(domain.Status(row.status), self.chain_of(s, row), principal)
        cols = personal.sealed_columns(self.keys, str(row.id), record)
        self.check_duplicates(s, row.province, cols, str(row.id))
        values = personal.plain_values(record)
        repository.update_talent(s, str(row.id), {**values, **cols})
        row = self.load(s, principal, talent_id)
        self.status_event(s, principal, row, None, "talent.updated")
        return self.view(s, principal, row)

    def get(
        self, s: Session, principal: Principal, talent_id: str, *, reveal: bool = False
    ) -> dict[str, Any]:
        row = self.load(s, principal, talent_id)
        if reveal:
            personal.audit_reveal(s, principal, [row])
        return self.view(s, principal, row, reveal=reveal, history=True)

    def search(
        self,
        s: Session,
        principal: Principal,
        *,
        q: str = "",
        specialty: str = "",
        category: str = "",
        tenant_id: str = "",
        status: str = "",
        page: int = 1,
        page_size: int = 20,
    ) -> dict[str, Any]:
        page = max(page, 1)
        page_size = min(max(page_size or 20, 1), 200)
        if category and category not in fields.SERVICE_CATEGORIES:
            raise InvalidArgument(f"服务类别“{category}”不在九类之中。")
        if status and status not in {s.value for s in domain.Status}:
            raise InvalidArgument(f"状态“{status}”不正确。")
        scope = (
            self.resolve_tenant(s, principal, tenant_id).path
            if tenant_id
            else principal.tenant_path
        )
        rows, total = repository.search_talents(
            s,
            scope,
            q=fields.normalize_text(q)[:50],
            specialty=fields.normalize_text(specialty)[:50],
            category=category,
            status=status,
            offset=(page - 1) * page_size,
            limit=page_size,
        )
        names = repository.tenant_names(s, [str(r.tenant_id) for r in rows])
        kinds = self.chain_kinds(s, rows)
        return {
            "talents": [self.view(s, principal, r, names=names, kinds=kinds) for r in rows],
            "total": total,
            "page": page,
            "page_size": page_size,
        }

    # --- the review chain ----------------------------------------------------------

    def recommend(
        self, s: Session, principal: Principal, talent_id: str, opinion: str
    ) -> dict[str, Any]:
        row = self.load(s, principal, talent_id, lock=True)
        t = domain.recommend(domain.Status(row.status), self.chain_of(s, row), principal, opinion)
        return self.apply(s, principal, row, t)

    def review(
        self, s: Session, principal: Principal, talent_id: str, decision: str, opinion: str
    ) -> dict[str, Any]:
        row = self.load(s, principal, talent_id, lock=True)
        t = domain.review(
            domain.Status(row.status), self.chain_of(s, row), principal, decision, opinion
        )
        return self.apply(s, principal, row, t)

    def bulk_review(
        self, s: Session, principal: Principal, ids: list[str], decision: str, opinion: str
    ) -> list[dict[str, Any]]:
        """Each talent in a savepoint of the caller's transaction: one refused review is
        reported and rolled back alone, the others commit together."""
        if not ids:
            raise InvalidArgument("请选择要审核的人才。")
        if len(ids) > 500:
            raise InvalidArgument("一次最多批量审核500名人才。")
        results: list[dict[str, Any]] = []
        for talent_id in dict.fromkeys(ids):
            savepoint = s.begin_nested()
            try:
                done = self.review(s, principal, talent_id, decision, opinion)
                savepoint.commit()
                results.append({"id": talent_id, "ok": True, "status": done["status"]})
            except DomainError as exc:
                savepoint.rollback()
                results.append(
                    {
                        "id": talent_id,
                        "ok": False,
                        "status": "",
                        "error_code": exc.grpc_status.name,
                        "error": exc.detail,
                    }
                )
        return results

    def change_lifecycle(
        self, s: Session, principal: Principal, talent_id: str, action: str, reason: str
    ) -> dict[str, Any]:
        if action not in ("suspend", "reinstate", "revoke"):
            raise InvalidArgument("操作应为暂停（suspend）、恢复（reinstate）或撤销（revoke）。")
        row = self.load(s, principal, talent_id, lock=True)
        t = domain.change_lifecycle(
            action, domain.Status(row.status), self.chain_of(s, row), principal, reason
        )
        return self.apply(s, principal, row, t)

    def apply(
        self, s: Session, principal: Principal, row: Any, t: domain.Transition
    ) -> dict[str, Any]:
        values: dict[str, Any] = {"status": t.to_status.value}
        certificate = ""
        if t.step == "recommend":
            values["recommend_opinion"] = t.opinion
        elif t.step == "city_opinion":
            values["city_opinion"] = t.opinion
        elif t.step == "province_review":
            values["province_opinion"] = t.opinion
        if t.to_status is domain.Status.REJECTED:
            values["reject_reason"] = t.opinion
        if t.to_status is domain.Status.CERTIFIED and not row.certificate_no:
            certificate = domain.certificate_number(
                row.province, datetime.now(UTC).year, repository.next_certificate_sequence(s)
            )
            values.update(certificate_no=certificate, certified_at=datetime.now(UTC))
        try:
            repository.update_talent(s, str(row.id), values)
            s.flush()
        except IntegrityError:
            raise AlreadyExists("全省已有相同的科普人才记录处于有效状态，不能恢复。") from None
        repository.add_review(
            s,
            {
                "talent_id": str(row.id),
                "tenant_path": row.tenant_path,
                "step": t.step,
                "from_status": t.from_status.value,
                "to_status": t.to_status.value,
                "opinion": t.opinion,
                "actor": principal.subject,
                "actor_username": principal.username,
                "actor_tenant_path": principal.tenant_path,
            },
        )
        row = self.load(s, principal, str(row.id))
        self.status_event(
            s, principal, row, t, t.event_type, certificate or row.certificate_no or ""
        )
        if t.to_status in (domain.Status.CERTIFIED, domain.Status.REVOKED):
            # Partners with consent learn of it through events written in this same transaction.
            write_partner_notices(s, principal, str(row.id))
        return self.view(s, principal, row, history=True)

    # --- quota progress ----------------------------------------------------------------

    def quota_entry(
        self, tenant: Owner, override: int | None, counts: tuple[int, int]
    ) -> dict[str, Any]:
        quota = domain.quota_for(tenant.kind, override, self.settings.quotas)
        certified, pending = counts
        return {
            "tenant_id": tenant.id,
            "code": tenant.path.split(".")[-1],
            "name": tenant.name,
            "kind": tenant.kind,
            "path": tenant.path,
            "quota": quota,
            "certified": certified,
            "pending": pending,
            "progress": round(certified / quota, 4) if quota else 0.0,
        }

    def stats(self, s: Session, principal: Principal) -> dict[str, Any]:
        me = repository.tenant_by_path(s, principal.tenant_path)
        root = self.resolve_tenant(s, principal, "")
        depth = len(root.path.split("."))
        own = repository.counts_by_child(s, root.path, depth).get(root.path, (0, 0))
        per_child = repository.counts_by_child(s, root.path, depth + 1)
        children = [
            self.quota_entry(
                Owner(str(c.id), c.path, c.kind, c.name),
                c.talent_quota,
                per_child.get(c.path, (0, 0)),
            )
            for c in repository.child_tenants(s, root.path)
        ]
        return {
            "own": self.quota_entry(root, me.talent_quota if me else None, own),
            "children": children,
        }

    def set_quota(
        self, s: Session, principal: Principal, tenant_id: str, quota: int
    ) -> dict[str, Any]:
        if "admin" not in principal.roles:
            raise PermissionDenied("只有管理员可以调整人才指标。")
        if quota < -1 or quota > 1_000_000:
            raise InvalidArgument("人才指标应为0到1000000之间的整数（-1表示恢复默认值）。")
        target = self.resolve_tenant(s, principal, tenant_id)
        top = len(principal.tenant_path.split(".")) == 1
        if target.path == principal.tenant_path and not top:
            raise PermissionDenied("本单位的人才指标由上级科协分配。")
        repository.set_quota(s, target.id, None if quota == -1 else quota)
        depth = len(target.path.split("."))
        counts = repository.counts_by_child(s, target.path, depth).get(target.path, (0, 0))
        return self.quota_entry(target, None if quota == -1 else quota, counts)
