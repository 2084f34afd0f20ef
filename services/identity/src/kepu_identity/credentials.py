"""Credential distribution (the 8月 step of seed 000).

An admin of tenant T issues an admin account to every descendant (or every
direct child) that lacks one. The run is a *batch*: its items are planned in one
transaction, then issued in chunks, each committed; an interrupted run is
resumed by the next request for T and never issues two accounts for one tenant
(a unique index allows one distributed admin per tenant). Initial passwords are
kept only sealed (AES-GCM) until the sheet is produced, then wiped. A caller that stores
the sheet somewhere (the Helm Job's Secret) passes ``deliver``: it runs before the wipe
commits, so a failed store leaves the batch to be delivered again by the next run.

Unlike the other use cases (``service``), a distribution opens its own units of work: the
batch commits chunk by chunk so that it can be resumed, which one transaction at the edge
could not do. The rules are in ``domain``, the SQL in ``repository``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from kepu_common.db import Database, Scope
from kepu_common.errors import NotFound
from kepu_common.tenancy import Principal
from sqlalchemy.orm import Session

from . import domain, passwords
from . import repository as repo
from .crypto import Sealer
from .models import CredentialItem, Tenant
from .sheets import IssuedRow, sheet_xlsx, slips_docx

log = logging.getLogger(__name__)
_HASHERS = ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2), thread_name_prefix="argon2")


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
        domain.check_distribution(caller, scope, branch_tenant_id)
        with self.db.unit_of_work(Scope.tenant(caller.tenant_path)) as s:
            t = repo.get_tenant(s, tenant_id)
            if t is None:
                raise NotFound(domain.NOT_VISIBLE)
            domain.check_issuer_tenant(caller, t.path)
            targets = self._targets(s, t, scope, branch_tenant_id)
            batch_id = self._plan(s, caller, t, scope, targets, reset_tenant_ids or [])
        self._issue_pending(caller, batch_id)
        return self._deliver(caller, batch_id, t.name, deliver)

    def _targets(self, s: Session, t: Tenant, scope: str, branch_id: str) -> list[Tenant]:
        """The tenants of ``scope`` under ``t`` that have no admin yet."""
        if scope != "branch":
            return repo.descendants_without_admin(s, t.path, direct_only=scope == "children")
        b = repo.get_tenant(s, branch_id)
        domain.check_branch(t.path, None if b is None else b.path)
        assert b is not None
        return repo.descendants_without_admin(s, b.path, direct_only=False, include_self=True)

    def outstanding(self, caller: Principal, tenant_id: str, scope: str = "subtree") -> int:
        """How many accounts a distribution would issue or deliver now (0: nothing to do)."""
        with self.db.unit_of_work(Scope.tenant(caller.tenant_path)) as s:
            t = repo.get_tenant(s, tenant_id)
            if t is None:
                raise NotFound(domain.NOT_VISIBLE)
            running = repo.items_of_running_batches(s, t.id)
            missing = repo.descendants_without_admin(s, t.path, direct_only=scope == "children")
        return running + len(missing)

    def _plan(
        self,
        s: Session,
        caller: Principal,
        t: Tenant,
        scope: str,
        targets: list[Tenant],
        reset_ids: list[str],
    ) -> str:
        running = repo.lock_running_batch(s, t.id)
        if running:
            log.info("resuming credential batch %s", running)
            return running
        batch_id = repo.insert_batch(
            s, tenant_id=t.id, tenant_path=t.path, scope=scope, by=caller.username
        )
        for rid in reset_ids:
            r = repo.get_tenant(s, rid)
            if r is None or r.path == t.path:
                raise NotFound(f"要重置的单位 {rid} 不存在或不是您的下级。")
            targets.append(r)
        for target in targets:
            repo.insert_item(s, batch_id, target.id, target.path, domain.username_for(target.code))
        return batch_id

    def _issue_pending(self, caller: Principal, batch_id: str) -> None:
        count = 0
        while True:
            with self.db.unit_of_work(Scope.tenant(caller.tenant_path)) as s:
                items = repo.claim_pending_items(s, batch_id, domain.CHUNK)
                if not items:
                    break
                # argon2id dominates (~20 ms each) and releases the GIL: hash a chunk on all cores.
                secrets_ = [domain.generate_initial_password() for _ in items]
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
        it: CredentialItem,
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
        sealed = self.sealer.seal(password.encode(), f"{batch_id}:{it.tenant_id}".encode())
        repo.mark_issued(s, batch_id, it.tenant_id, sealed)
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
            for it in repo.issued_items(s, batch_id):
                assert it.sealed_password is not None
                pw = self.sealer.open(
                    it.sealed_password, f"{batch_id}:{it.tenant_id}".encode()
                ).decode()
                result.issued.append(IssuedRow(it.code, it.name, it.kind, it.username, pw))
                result.issued_ids.append(it.tenant_id)
            with_admin = repo.count_with_admin_below(s, caller.tenant_path)
            result.skipped = max(with_admin - len(result.issued), 0)
            result.sheet = sheet_xlsx(issuer_name, self.login_url, result.issued)
            result.slips = slips_docx(issuer_name, self.login_url, result.issued)
            if deliver is not None:
                # Stored before the wipe below commits: if storing fails, the batch stays
                # running with its sealed passwords and the next run delivers it again.
                deliver(result)
            # The sheet leaves now; the sealed passwords are wiped in the same transaction.
            repo.mark_delivered(s, batch_id)
        return result
