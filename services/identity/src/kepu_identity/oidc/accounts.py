"""Sign-in, lockout, password change and TOTP: the rules of accounts (SPEC section 2)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Protocol

import pyotp
from kepu_common.db import Database, Scope
from kepu_common.errors import InvalidArgument

from .. import domain, passwords
from .. import repository as repo
from ..crypto import Sealer
from ..models import User

log = logging.getLogger(__name__)


class SignInFailed(Exception):
    """An OAuth-style failure: ``error``/``description`` as Keycloak words them, ``detail`` in Chinese."""

    def __init__(self, error: str, description: str, detail: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.detail = detail
        self.status = status


INVALID = SignInFailed("invalid_grant", "Invalid user credentials", "用户名或密码错误。", 401)
# A locked account answers exactly as a wrong password or an unknown name does (as Keycloak's
# brute-force detection does): the answer must not tell anyone which accounts exist.
LOCKED = INVALID
DISABLED = SignInFailed("invalid_grant", "Account disabled", "账号已停用，请联系上级科协。", 400)
NOT_SET_UP = SignInFailed(
    "invalid_grant",
    "Account is not fully set up",
    "首次登录须先修改初始密码（管理员还须绑定动态口令），请在门户登录页或修改密码接口完成设置。",
    400,
)
OTP_INVALID = SignInFailed(
    "invalid_grant", "Invalid user credentials", "动态口令（TOTP）错误或缺失。", 401
)


@dataclass(frozen=True)
class Account:
    id: str
    username: str
    tenant_id: str
    tenant_path: str
    tenant_kind: str
    tenant_name: str
    display_name: str
    email: str | None
    roles: list[str]
    must_change_password: bool
    totp_enabled: bool
    is_admin: bool

    @classmethod
    def from_row(cls, r: User) -> Account:
        return cls(
            id=r.id,
            username=r.username,
            tenant_id=r.tenant_id,
            tenant_path=r.tenant_path,
            tenant_kind=r.tenant_kind,
            tenant_name=r.tenant_name,
            display_name=r.display_name,
            email=r.email,
            roles=list(r.roles),
            must_change_password=r.must_change_password,
            totp_enabled=r.totp_enabled,
            is_admin="admin" in r.roles or "platform_admin" in r.roles,
        )


def audit_context(row: User, client_ip: str) -> dict[str, Any]:
    """Who and where, for the audit entries of a sign-in or password change of ``row``."""
    return {
        "tenant_id": row.tenant_id,
        "tenant_path": row.tenant_path,
        "username": row.username,
        "client_ip": client_ip,
    }


class Accounts:
    def __init__(self, db: Database, sealer: Sealer, *, mfa_required: bool) -> None:
        self.db = db
        self.sealer = sealer
        self.mfa_required = mfa_required

    def check_password(self, username: str, password: str, client_ip: str = "") -> Account:
        """Verify username and password, counting failures and locking after five."""
        failure: SignInFailed | None = None
        with self.db.unit_of_work(Scope.system_scope()) as s:
            row = repo.user_by_username(s, username)
            if row is None:
                passwords.verify_password(_DUMMY_HASH, password)  # same cost as a real check
                log.info("sign-in failure for unknown user %r from %s", username, client_ip)
                raise INVALID
            ctx = audit_context(row, client_ip)
            if not row.enabled:
                raise DISABLED
            if row.locked:
                passwords.verify_password(row.password_hash, password)  # the same cost
                repo.audit(s, action="login_blocked", **ctx)
                failure = LOCKED
            elif not passwords.verify_password(row.password_hash, password):
                locked = repo.record_failure(s, row.id, domain.MAX_FAILURES, domain.LOCK_MINUTES)
                repo.audit(s, action="login_failure", **ctx)
                if locked:
                    repo.audit(s, action="lockout", **ctx)
                failure = LOCKED if locked else INVALID
            else:
                account = Account.from_row(row)
                # With a second factor, the count resets only once the code is right too
                # (else a known password would wipe the count of wrong codes each time).
                if row.failed_count and not self.needs_otp(account):
                    repo.reset_failures(s, row.id)
        if failure is not None:  # committed the counters first
            raise failure
        return account

    def needs_setup(self, account: Account) -> bool:
        return account.must_change_password or (
            self.mfa_required and account.is_admin and not account.totp_enabled
        )

    def needs_otp(self, account: Account) -> bool:
        return account.totp_enabled or (self.mfa_required and account.is_admin)

    def verify_otp(self, account: Account, code: str | None, client_ip: str = "") -> bool:
        """The second factor; a wrong or missing code is a failed sign-in (it counts towards
        the lockout like a wrong password), and a locked account passes no code."""
        with self.db.unit_of_work(Scope.system_scope()) as s:
            row = repo.user_by_id(s, account.id)
            if row is None or row.totp_secret is None:
                return False
            secret = self.sealer.open(row.totp_secret, row.id.encode()).decode()
            ok = bool(code) and pyotp.TOTP(secret).verify(str(code).strip(), valid_window=1)
            if ok and not row.locked:
                if row.failed_count:
                    repo.reset_failures(s, row.id)
                return True
            ctx = audit_context(row, client_ip)
            if row.locked:
                repo.audit(s, action="login_blocked", **ctx)
                return False
            if repo.record_failure(s, row.id, domain.MAX_FAILURES, domain.LOCK_MINUTES):
                repo.audit(s, action="lockout", **ctx)
            repo.audit(s, action="login_failure", **{**ctx, "details": {"factor": "totp"}})
        return False

    def record_sign_in(self, account: Account, client_id: str, client_ip: str = "") -> None:
        with self.db.unit_of_work(Scope.system_scope()) as s:
            repo.audit(
                s,
                tenant_id=account.tenant_id,
                tenant_path=account.tenant_path,
                action="login",
                username=account.username,
                client_ip=client_ip,
                details={"client_id": client_id},
            )

    def change_password(
        self, username: str, current: str, new: str, client_ip: str = ""
    ) -> Account:
        """Change a password with the current one (no token needed); lockout applies."""
        account = self.check_password(username, current, client_ip)
        return self.set_new_password(account, new, client_ip)

    def set_new_password(self, account: Account, new: str, client_ip: str = "") -> Account:
        """Replace the password of a signed-in account (policy, history of 5, audit)."""
        domain.check_policy(new, account.username)
        with self.db.unit_of_work(Scope.system_scope()) as s:
            for old in repo.recent_password_hashes(s, account.id, domain.HISTORY):
                if passwords.verify_password(old, new):
                    raise InvalidArgument(f"新密码不能与最近 {domain.HISTORY} 次使用过的密码相同。")
            repo.set_password(
                s, account.id, account.tenant_path, passwords.hash_password(new), must_change=False
            )
            repo.audit(
                s,
                tenant_id=account.tenant_id,
                tenant_path=account.tenant_path,
                action="password_changed",
                username=account.username,
                client_ip=client_ip,
            )
        return self.reload(account.id)

    def reload(self, user_id: str) -> Account:
        with self.db.unit_of_work(Scope.system_scope()) as s:
            row = repo.user_by_id(s, user_id)
        assert row is not None
        return Account.from_row(row)

    def for_single_sign_on(self, user_id: str) -> Account | None:
        """The account of a browser's sign-in session, if it may still come back without its
        password: not disabled, not locked, no password change pending."""
        with self.db.unit_of_work(Scope.system_scope()) as s:
            row = repo.user_by_id(s, user_id)
        if row is None or not row.enabled or row.locked or row.must_change_password:
            return None
        return Account.from_row(row)

    def new_totp_secret(self) -> str:
        return pyotp.random_base32()

    def enable_totp(self, account: Account, secret: str, code: str) -> bool:
        if not pyotp.TOTP(secret).verify(code.strip(), valid_window=1):
            return False
        with self.db.unit_of_work(Scope.system_scope()) as s:
            repo.enable_totp(s, account.id, self.sealer.seal(secret.encode(), account.id.encode()))
            repo.audit(
                s,
                tenant_id=account.tenant_id,
                tenant_path=account.tenant_path,
                action="totp_enabled",
                username=account.username,
            )
        return True

    def totp_uri(self, account: Account, secret: str) -> str:
        return pyotp.TOTP(secret).provisioning_uri(name=account.username, issuer_name="科普云")


class RealmPasswords(Protocol):
    """Where the credentials live in Keycloak mode (``KeycloakProvisioner``)."""

    def check_password(self, username: str, password: str) -> str: ...

    def set_password(self, username: str, password: str) -> None: ...


class KeycloakAccounts(Accounts):
    """Accounts whose credentials Keycloak holds (``IDP=keycloak``).

    The account password API keeps its contract: the current password is checked against
    Keycloak (a failure counts for Keycloak's brute-force lockout, as a sign-in does), our
    policy is enforced with its Chinese messages before Keycloak sees the new password, and
    Keycloak sets it (checking its history) and drops UPDATE_PASSWORD. Identity keeps the
    account row, its tenant and the audit log.
    """

    def __init__(
        self, db: Database, sealer: Sealer, *, mfa_required: bool, realm: RealmPasswords
    ) -> None:
        super().__init__(db, sealer, mfa_required=mfa_required)
        self.realm = realm

    def change_password(
        self, username: str, current: str, new: str, client_ip: str = ""
    ) -> Account:
        with self.db.unit_of_work(Scope.system_scope()) as s:
            row = repo.user_by_username(s, username)
        if row is None:
            raise INVALID
        ctx = audit_context(row, client_ip)
        if not row.enabled:
            raise DISABLED
        outcome = self.realm.check_password(username, current)
        if outcome != "ok" and outcome != "not_set_up":
            # The check is a sign-in at Keycloak: its failure and any lockout reach the audit
            # log from Keycloak's own events (``keycloak_events``), not written twice here.
            raise INVALID if outcome == "invalid" else LOCKED
        domain.check_policy(new, username)
        self.realm.set_password(username, new)
        with self.db.unit_of_work(Scope.system_scope()) as s:
            repo.mark_password_changed(s, row.id)
            repo.audit(s, action="password_changed", **ctx)
        return self.reload(row.id)


_DUMMY_HASH = passwords.hash_password("dummy-password-for-timing")
