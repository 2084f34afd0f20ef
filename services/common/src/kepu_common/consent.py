"""Partner access mechanisms shared by every service that lends records to partners (SPEC 7).

- Token checks: a partner's client-credentials token (role ``partner``) opens only the
  partner API; staff endpoints refuse it.
- The consent ledger: the consents (个人信息授权, PIPL art. 23) one service records for one
  kind of subject (a talent, a project), in a table of its own named after the subject.
  The policy a consent must meet (purpose, at most three years, end of day Beijing time)
  is identity's (``kepu_identity.consent``), not this package's. Every ledger answers the one
  message ``kepu.partner.v1.Consent`` (``ConsentLedger.message``), marked with its subject
  type; a request for another subject type is refused (``ConsentLedger.check_subject_type``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kepu.partner.v1 import consent_pb2
from sqlalchemy import Column, DateTime, MetaData, Row, Table, Text, func, text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Session

from . import rls
from .errors import InvalidArgument, PermissionDenied
from .tables import Ltree
from .tenancy import Principal
from .times import shanghai_iso


def require_staff(p: Principal) -> None:
    """Refuse a partner's token on a staff endpoint."""
    if "partner" in p.roles:
        raise PermissionDenied("合作机构的令牌只能访问 /partner/v1 接口。")


def require_partner(p: Principal, scope: str) -> None:
    """Only a partner's client-credentials token that was granted ``scope``."""
    if "partner" not in p.roles or not p.client_id:
        raise PermissionDenied("此接口只对合作机构开放（OAuth2 客户端凭据令牌）。")
    if scope not in p.scopes:
        raise PermissionDenied(f"令牌缺少权限 {scope}，请联系登记贵机构的科协开通。")


# What a subject type is called in a message to the user.
SUBJECT_CN = {consent_pb2.SUBJECT_TYPE_TALENT: "人才", consent_pb2.SUBJECT_TYPE_PROJECT: "项目"}


@dataclass(frozen=True)
class ConsentLedger:
    """The consents of one kind of subject: ``table`` (``talent_consents``) holds a row per
    consent, ``subject`` (``talent_id``) references ``subject_table`` (``talents``);
    ``subject_type`` is the ``kepu.partner.v1.SubjectType`` its consents are of.

    A consent is live until it is revoked or expires; at most one is open per subject and
    partner (a new one replaces it). Reads are bounded by the caller's subtree (``scope``)
    and row-level security. Rows carry ``id``, the subject column, ``tenant_path``,
    ``partner_client_id``, ``purpose``, ``expires_at``, ``created_at``,
    ``created_by_username``, ``revoked_at``, ``revoked_by`` and ``live``.
    """

    table: str
    subject: str
    subject_table: str
    subject_type: consent_pb2.SubjectType = consent_pb2.SUBJECT_TYPE_UNSPECIFIED

    def check_subject_type(self, subject_type: int) -> None:
        """Refuse a request for another subject type (a project's consent sent to talent)."""
        if subject_type != self.subject_type:
            kind = SUBJECT_CN.get(self.subject_type, "本类对象")
            raise InvalidArgument(
                f"授权对象类型不正确：这里只受理{kind}的授权。", field="subject_type"
            )

    def message(self, r: Any) -> consent_pb2.Consent:
        """A ledger row as the one consent message: the shared fields (``consent_fields``),
        the subject's id and type, and its name where the row has one (``of_tenant``)."""
        return consent_pb2.Consent(
            subject_id=getattr(r, self.subject),
            subject_type=self.subject_type,
            subject_name=getattr(r, "subject_name", ""),
            **consent_fields(r),
        )

    def core_table(self, metadata: MetaData, *extra: Column[Any]) -> Table:
        """The ledger's table as SQLAlchemy Core (the columns ``ddl`` creates, then the
        service's ``extra`` ones), for the service's ``models.metadata``."""
        return Table(
            self.table,
            metadata,
            Column("id", UUID(as_uuid=False), primary_key=True),
            Column(self.subject, UUID(as_uuid=False), nullable=False),
            Column("tenant_path", Ltree, nullable=False),
            Column("partner_client_id", Text, nullable=False),
            Column("partner_tenant_path", Ltree, nullable=False),
            Column("purpose", Text, nullable=False),
            Column("expires_at", DateTime(timezone=True), nullable=False),
            Column("created_by", Text, nullable=False),
            Column("created_by_username", Text, nullable=False, server_default=""),
            Column(
                "created_at", DateTime(timezone=True), nullable=False, server_default=func.now()
            ),
            Column("revoked_at", DateTime(timezone=True)),
            Column("revoked_by", Text, nullable=False, server_default=""),
            *extra,
        )

    def ddl(self, extra_columns: tuple[str, ...] = ()) -> list[str]:
        """The statements that create the ledger (for a migration; the caller grants it to
        the app role): the table with its subject's foreign key, the one-open-consent index,
        the partner and path indexes, and forced row-level security."""
        t = self.table
        extra = "".join(f",\n    {c}" for c in extra_columns)
        return [
            f"""CREATE TABLE {t} (
    id uuid PRIMARY KEY,
    {self.subject} uuid NOT NULL REFERENCES {self.subject_table} (id) ON DELETE CASCADE,
    tenant_path ltree NOT NULL,
    partner_client_id text NOT NULL,
    partner_tenant_path ltree NOT NULL,
    purpose text NOT NULL CHECK (length(purpose) BETWEEN 1 AND 500),
    expires_at timestamptz NOT NULL,
    created_by text NOT NULL,
    created_by_username text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz,
    revoked_by text NOT NULL DEFAULT ''{extra}
)""",
            f"CREATE UNIQUE INDEX {t}_one_open ON {t} ({self.subject}, partner_client_id)"
            " WHERE revoked_at IS NULL",
            f"CREATE INDEX {t}_partner ON {t} (partner_client_id, expires_at)"
            " WHERE revoked_at IS NULL",
            f"CREATE INDEX {t}_path ON {t} USING gist (tenant_path)",
            *rls.enable_rls_sql(t),
        ]

    @property
    def columns(self) -> str:
        """The select list of a consent row (the ledger's alias is ``c``)."""
        return (
            f"c.id::text AS id, c.{self.subject}::text AS {self.subject},"
            " ltree2text(c.tenant_path) AS tenant_path, c.partner_client_id, c.purpose,"
            " c.expires_at, c.created_at, c.created_by_username, c.revoked_at, c.revoked_by,"
            f" ({LIVE}) AS live"
        )

    def of_subject(self, s: Session, scope: str, subject_id: str, now: datetime) -> list[Row[Any]]:
        """The consents of one subject, newest first."""
        return list(
            s.execute(
                text(
                    f"SELECT {self.columns} FROM {self.table} c"
                    f" WHERE c.{self.subject} = CAST(:sid AS uuid)"
                    " AND c.tenant_path <@ text2ltree(:scope)"
                    " ORDER BY c.created_at DESC, c.id"
                ),
                {"sid": subject_id, "scope": scope, "now": now},
            )
        )

    def of_tenant(
        self, s: Session, scope: str, now: datetime, *, limit: int, offset: int
    ) -> tuple[list[Row[Any]], int]:
        """A page of every consent recorded in the caller's subtree (newest first), each row
        with its subject's ``subject_name`` (the subject table's ``name``), and the count."""
        where = "c.tenant_path <@ text2ltree(:scope)"
        params: dict[str, Any] = {"scope": scope, "now": now}
        total = s.execute(
            text(f"SELECT count(*) FROM {self.table} c WHERE {where}"), params
        ).scalar_one()
        rows = s.execute(
            text(
                f"SELECT {self.columns}, x.name AS subject_name FROM {self.table} c"
                f" JOIN {self.subject_table} x ON x.id = c.{self.subject} WHERE {where}"
                " ORDER BY c.created_at DESC, c.id LIMIT :limit OFFSET :offset"
            ),
            {**params, "limit": limit, "offset": offset},
        )
        return list(rows), int(total)

    def get(
        self, s: Session, scope: str, subject_id: str, consent_id: str, now: datetime
    ) -> Row[Any] | None:
        """One consent of the subject, locked for the rest of the transaction."""
        return s.execute(
            text(
                f"SELECT {self.columns} FROM {self.table} c WHERE c.id = CAST(:id AS uuid)"
                f" AND c.{self.subject} = CAST(:sid AS uuid)"
                " AND c.tenant_path <@ text2ltree(:scope) FOR UPDATE"
            ),
            {"id": consent_id, "sid": subject_id, "scope": scope, "now": now},
        ).first()

    def grant(
        self,
        s: Session,
        *,
        consent_id: str,
        subject_id: str,
        tenant_path: str,
        partner_client_id: str,
        partner_tenant_path: str,
        purpose: str,
        expires_at: datetime,
        by: str,
        username: str,
        now: datetime,
        extra: dict[str, Any] | None = None,
    ) -> None:
        """Record a consent; the subject's open consent for the same partner is revoked by
        it (a new purpose or term replaces the old one). ``extra`` fills the service's own
        columns (``ddl``'s ``extra_columns``)."""
        s.execute(
            text(
                f"UPDATE {self.table} SET revoked_at = :now, revoked_by = :by"
                f" WHERE {self.subject} = CAST(:sid AS uuid) AND partner_client_id = :c"
                " AND revoked_at IS NULL"
            ),
            {
                "sid": subject_id,
                "c": partner_client_id,
                "by": f"{username}（新授权替代）",
                "now": now,
            },
        )
        more = dict(extra or {})
        names = "".join(f", {k}" for k in more)
        values = "".join(f", :x_{k}" for k in more)
        s.execute(
            text(
                f"INSERT INTO {self.table} (id, {self.subject}, tenant_path, partner_client_id,"
                " partner_tenant_path, purpose, expires_at, created_by, created_by_username,"
                f" created_at{names}) VALUES (CAST(:id AS uuid), CAST(:sid AS uuid),"
                " text2ltree(:path), :c, text2ltree(:pp), :purpose, :exp, :by, :username,"
                f" :now{values})"
            ),
            {
                "id": consent_id,
                "sid": subject_id,
                "path": tenant_path,
                "c": partner_client_id,
                "pp": partner_tenant_path,
                "purpose": purpose,
                "exp": expires_at,
                "by": by,
                "username": username,
                "now": now,
                **{f"x_{k}": v for k, v in more.items()},
            },
        )

    def revoke(self, s: Session, consent_id: str, by: str, now: datetime) -> None:
        s.execute(
            text(
                f"UPDATE {self.table} SET revoked_at = :now, revoked_by = :by"
                " WHERE id = CAST(:id AS uuid)"
            ),
            {"id": consent_id, "by": by, "now": now},
        )


def consent_fields(r: Any) -> dict[str, Any]:
    """The fields of a ``kepu.partner.v1.Consent`` every ledger row has: times as
    ISO 8601 in Beijing time ('' when unset), the recorder by user name."""
    return {
        "id": r.id,
        "partner_client_id": r.partner_client_id,
        "purpose": r.purpose,
        "expires_at": shanghai_iso(r.expires_at),
        "created_at": shanghai_iso(r.created_at),
        "created_by": r.created_by_username,
        "revoked_at": shanghai_iso(r.revoked_at),
        "revoked_by": r.revoked_by,
        "live": bool(r.live),
    }


# A consent row (alias ``c``) that still holds at ``:now``.
LIVE = "c.revoked_at IS NULL AND c.expires_at > :now"
