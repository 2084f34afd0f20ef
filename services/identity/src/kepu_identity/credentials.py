"""Credential distribution (the 8月 step of seed 000).

An admin of tenant T issues an admin account to every descendant (or every
direct child) that lacks one. The run is a *batch*: its items are planned in one
transaction, then issued in chunks, each committed; an interrupted run is
resumed by the next request for T and never issues two accounts for one tenant
(a unique index allows one distributed admin per tenant). Initial passwords are
kept only sealed (AES-GCM) until the sheet is produced, then wiped. A caller that stores
the sheet somewhere (the Helm Job's Secret) passes ``deliver``: it runs before the wipe
commits, so a failed store leaves the batch to be delivered again by the next run.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from kepu_common.db import Database, Scope
from kepu_common.errors import InvalidArgument, NotFound, PermissionDenied
from kepu_common.tenancy import Principal
from sqlalchemy import Row, text
from sqlalchemy.orm import Session

from . import passwords
from . import repository as repo
from .crypto import Sealer
from .sheets import IssuedRow, sheet_xlsx, slips_docx

log = logging.getLogger(__name__)
CHUNK = 50
SCOPES = ("children", "subtree", "branch")
_HASHERS = ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2), thread_name_prefix="argon2")


def username_for(code: str) -> str:
    """Login name derived from the division code: ``kx`` + code (e.g. kx411300)."""
    return "kx" + code.lower()


@dataclass
class DistributionResult:
    batch_id: str
    issued: list[IssuedRow] = field(default_factory=list)
    issued_ids: list[str] = field(default_factory=list)
    skipped: int = 0
    sheet: bytes = b""
    slips: bytes = b""


class CredentialDistributor:
    def __init__(
        self,
        db: Database,
        sealer: Sealer,
        *,
        login_url: str,
        external: Callable[[IssuedRow, str, str, bool], None] | None = None,
        fail_after: int | None = None,
    ) -> None:
        self.db = db
        self.sealer = sealer
        self.login_url = login_url
        # external(row, tenant_id, tenant_path, reset): also provision in Keycloak (IDP=keycloak)
        self.external = external
        self._fail_after = fail_after  # tests: simulate a crash after N issued accounts

    def distribute(
        self,
        caller: Principal,
        tenant_id: str,
        scope: str = "subtree",
        reset_tenant_ids: list[str] | None = None,
        deliver: Callable[[DistributionResult], None] | None = None,
        branch_tenant_id: str = "",
    ) -> DistributionResult:
        """Issue the missing admin accounts of ``scope``: direct ``children``, the whole
        ``subtree``, or one ``branch`` (``branch_tenant_id`` and its descendants, e.g. a city
        and its counties, issued by the province in one request)."""
        if scope not in SCOPES:
            raise InvalidArgument(
                "分配范围只能是 children（直属下级）、subtree（全部下级）"
                "或 branch（指定下级单位及其全部下级）。"
            )
        if scope == "branch" and not branch_tenant_id:
            raise InvalidArgument("分配范围为指定下级单位时，须选择下级单位（branch_tenant_id）。")
        if not caller.has_role("admin") and not caller.has_role("platform_admin"):
            raise PermissionDenied("只有本单位管理员可以分配下级账号。")
        with self.db.unit_of_work(Scope.tenant(caller.tenant_path)) as s:
            t = repo.get_tenant(s, tenant_id)
            if t is None:
                raise NotFound("单位不存在，或不在您的管辖范围内。")
            if t.path != caller.tenant_path and not caller.has_role("platform_admin"):
                raise PermissionDenied("只能为本单位的下级分配账号。")
            targets = self._targets(s, t, scope, branch_tenant_id)
            batch_id = self._plan(s, caller, t, scope, targets, reset_tenant_ids or [])
        self._issue_pending(caller, batch_id)
        return self._deliver(caller, batch_id, t.name, deliver)

    def _targets(self, s: Session, t: Row[Any], scope: str, branch_id: str) -> list[Row[Any]]:
        """The tenants of ``scope`` under ``t`` that have no admin yet."""
        if scope != "branch":
            return repo.descendants_without_admin(s, t.path, direct_only=scope == "children")
        b = repo.get_tenant(s, branch_id)
        if b is None or not b.path.startswith(t.path + "."):
            raise InvalidArgument("所选下级单位不存在，或不是本单位的下级。")
        return repo.descendants_without_admin(s, b.path, direct_only=False, include_self=True)

    def outstanding(self, caller: Principal, tenant_id: str, scope: str = "subtree") -> int:
        """How many accounts a distribution would issue or deliver now (0: nothing to do)."""
        with self.db.unit_of_work(Scope.tenant(caller.tenant_path)) as s:
            t = repo.get_tenant(s, tenant_id)
            if t is None:
                raise NotFound("单位不存在，或不在您的管辖范围内。")
            running = s.execute(
                text(
                    "SELECT count(*) FROM credential_items i JOIN credential_batches b"
                    " ON b.id = i.batch_id WHERE b.tenant_id = CAST(:t AS uuid)"
                    " AND b.status = 'running'"
                ),
                {"t": t.id},
            ).scalar()
            missing = repo.descendants_without_admin(s, t.path, direct_only=scope == "children")
        return int(running or 0) + len(missing)

    def _plan(
        self,
        s: Session,
        caller: Principal,
        t: Row[Any],
        scope: str,
        targets: list[Row[Any]],
        reset_ids: list[str],
    ) -> str:
        running = s.execute(
            text(
                "SELECT id::text FROM credential_batches WHERE tenant_id = CAST(:t AS uuid)"
                " AND status = 'running' FOR UPDATE"
            ),
            {"t": t.id},
        ).scalar()
        if running:
            log.info("resuming credential batch %s", running)
            return str(running)
        batch_id = str(uuid.uuid4())
        s.execute(
            text(
                "INSERT INTO credential_batches (id, tenant_id, tenant_path, scope, created_by)"
                " VALUES (CAST(:id AS uuid), CAST(:t AS uuid), CAST(:p AS ltree), :s, :by)"
            ),
            {"id": batch_id, "t": t.id, "p": t.path, "s": scope, "by": caller.username},
        )
        for rid in reset_ids:
            r = repo.get_tenant(s, rid)
            if r is None or r.path == t.path:
                raise NotFound(f"要重置的单位 {rid} 不存在或不是您的下级。")
            targets.append(r)
        for target in targets:
            s.execute(
                text(
                    "INSERT INTO credential_items (batch_id, tenant_id, tenant_path, username)"
                    " VALUES (CAST(:b AS uuid), CAST(:t AS uuid), CAST(:p AS ltree), :u) ON CONFLICT DO NOTHING"
                ),
                {"b": batch_id, "t": target.id, "p": target.path, "u": username_for(target.code)},
            )
        return batch_id

    def _issue_pending(self, caller: Principal, batch_id: str) -> None:
        count = 0
        while True:
            with self.db.unit_of_work(Scope.tenant(caller.tenant_path)) as s:
                items = s.execute(
                    text(
                        "SELECT i.tenant_id::text AS tenant_id, i.tenant_path::text AS path, i.username,"
                        " t.code, t.name, t.kind FROM credential_items i JOIN tenants t ON t.id = i.tenant_id"
                        " WHERE i.batch_id = CAST(:b AS uuid) AND i.status = 'pending'"
                        " ORDER BY i.tenant_path LIMIT :n FOR UPDATE OF i SKIP LOCKED"
                    ),
                    {"b": batch_id, "n": CHUNK},
                ).all()
                if not items:
                    break
                # argon2id dominates (~20 ms each) and releases the GIL: hash a chunk on all cores.
                secrets_ = [passwords.generate_initial_password() for _ in items]
                hashes = list(_HASHERS.map(passwords.hash_password, secrets_))
                for it, password, password_hash in zip(items, secrets_, hashes, strict=True):
                    if self._fail_after is not None and count >= self._fail_after:
                        raise RuntimeError("simulated interruption")
                    self._issue_one(s, caller, batch_id, it, password, password_hash)
                    count += 1

    def _issue_one(
        self,
        s: Session,
        caller: Principal,
        batch_id: str,
        it: Row[Any],
        password: str,
        password_hash: str,
    ) -> None:
        existing = repo.user_by_username(s, it.username)
        reset = existing is not None
        row = IssuedRow(it.code, it.name, it.kind, it.username, password)
        if self.external is not None:
            self.external(row, it.tenant_id, it.path, reset)
        if existing is None:
            uid = repo.insert_user(
                s,
                tenant_id=it.tenant_id,
                tenant_path=it.path,
                username=it.username,
                password_hash=password_hash,
                roles=["admin"],
                must_change=True,
                is_tenant_admin=True,
                display_name=f"{it.name}管理员",
            )
        else:
            uid = existing.id
            repo.set_password(s, uid, it.path, password_hash, must_change=True)
        s.execute(
            text(
                "UPDATE credential_items SET status = 'issued', sealed_password = :sp"
                " WHERE batch_id = CAST(:b AS uuid) AND tenant_id = CAST(:t AS uuid)"
            ),
            {
                "sp": self.sealer.seal(password.encode(), f"{batch_id}:{it.tenant_id}".encode()),
                "b": batch_id,
                "t": it.tenant_id,
            },
        )
        repo.audit(
            s,
            tenant_id=it.tenant_id,
            tenant_path=it.path,
            action="credential_reset" if reset else "credential_issued",
            username=it.username,
            actor=caller.username,
            details={"batch_id": batch_id, "issued_by": caller.username},
        )

    def _deliver(
        self,
        caller: Principal,
        batch_id: str,
        issuer_name: str,
        deliver: Callable[[DistributionResult], None] | None,
    ) -> DistributionResult:
        result = DistributionResult(batch_id=batch_id)
        with self.db.unit_of_work(Scope.tenant(caller.tenant_path)) as s:
            items = s.execute(
                text(
                    "SELECT i.tenant_id::text AS tenant_id, i.username, i.sealed_password, t.code, t.name, t.kind"
                    " FROM credential_items i JOIN tenants t ON t.id = i.tenant_id"
                    " WHERE i.batch_id = CAST(:b AS uuid) AND i.status = 'issued' ORDER BY i.tenant_path"
                ),
                {"b": batch_id},
            ).all()
            for it in items:
                pw = self.sealer.open(
                    it.sealed_password, f"{batch_id}:{it.tenant_id}".encode()
                ).decode()
                result.issued.append(IssuedRow(it.code, it.name, it.kind, it.username, pw))
                result.issued_ids.append(it.tenant_id)
            result.skipped = int(
                s.execute(
                    text(
                        "SELECT count(*) FROM tenants t WHERE t.tenant_path <@ CAST(:p AS ltree)"
                        " AND t.tenant_path <> CAST(:p AS ltree) AND EXISTS (SELECT 1 FROM users u"
                        " WHERE u.tenant_id = t.id AND u.is_tenant_admin)"
                    ),
                    {"p": caller.tenant_path},
                ).scalar()
                or 0
            ) - len(result.issued)
            result.skipped = max(result.skipped, 0)
            result.sheet = sheet_xlsx(issuer_name, self.login_url, result.issued)
            result.slips = slips_docx(issuer_name, self.login_url, result.issued)
            if deliver is not None:
                # Stored before the wipe below commits: if storing fails, the batch stays
                # running with its sealed passwords and the next run delivers it again.
                deliver(result)
            # The sheet leaves now; the sealed passwords are wiped in the same transaction.
            s.execute(
                text(
                    "UPDATE credential_items SET sealed_password = NULL, status = 'delivered'"
                    " WHERE batch_id = CAST(:b AS uuid)"
                ),
                {"b": batch_id},
            )
            s.execute(
                text(
                    "UPDATE credential_batches SET status = 'delivered', finished_at = now()"
                    " WHERE id = CAST(:b AS uuid)"
                ),
                {"b": batch_id},
            )
        return result
