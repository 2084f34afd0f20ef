"""Keycloak's sign-in events in the one audit log (``IDP=keycloak``).

With the embedded provider identity writes sign-ins, failures and lockouts in the transaction
of the check (``accounts``). With Keycloak the checks happen there: the realm stores its
events (``realm.events_config``) and this feed, a thread of the identity worker, reads them
through the admin API every few seconds and writes each one once (its Keycloak id in
``processed_events``) as the same audit actions, with Keycloak's time, source address and the
tenant of the account (the user's ``tenant_path`` attribute). Attempts on unknown usernames
are not audit entries, as with the embedded provider (the audit log is per tenant).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from kepu_common.consumer import first_time
from kepu_common.db import Database, Scope
from kepu_common.errors import DomainError

from . import repository as repo

if TYPE_CHECKING:
    from .keycloak_provisioner import KeycloakProvisioner

log = logging.getLogger(__name__)

CONSUMER = "identity.keycloak_events"
# Keycloak may store an event a little after its timestamp; read back this far each time.
OVERLAP_MS = 120_000
PAGE = 200


@dataclass(frozen=True)
class SignInEvent:
    """What an audit row needs from one Keycloak event."""

    event_id: str
    action: str
    user_id: str
    username: str
    client_id: str
    client_ip: str
    occurred_at: datetime
    time_ms: int


def _action(event: dict[str, Any]) -> str | None:
    kind = str(event.get("type", ""))
    error = str(event.get("error") or "")
    details = event.get("details") or {}
    match kind:
        case "LOGIN":
            return "login"
        case "LOGIN_ERROR" if error == "user_temporarily_disabled":
            return "login_blocked"
        case "LOGIN_ERROR" if error in ("invalid_user_credentials", "invalid_authentication"):
            return "login_failure"
        case "USER_DISABLED_BY_TEMPORARY_LOCKOUT" | "USER_DISABLED_BY_PERMANENT_LOCKOUT":
            return "lockout"
        case "UPDATE_PASSWORD":
            return "password_changed"
        case "UPDATE_CREDENTIAL" if details.get("credential_type") == "otp":
            return "totp_enabled"
        case "UPDATE_TOTP":
            return "totp_enabled"
        case "LOGOUT":
            return "logout"
    return None


def sign_in_event(event: dict[str, Any]) -> SignInEvent | None:
    """The audit meaning of a Keycloak event, or None for one the audit log does not keep."""
    action = _action(event)
    event_id = str(event.get("id") or "")
    if action is None or not event_id:
        return None
    details = event.get("details") or {}
    time_ms = int(event.get("time") or 0)
    return SignInEvent(
        event_id=event_id,
        action=action,
        user_id=str(event.get("userId") or ""),
        username=str(details.get("username") or ""),
        client_id=str(event.get("clientId") or ""),
        client_ip=str(event.get("ipAddress") or ""),
        occurred_at=datetime.fromtimestamp(time_ms / 1000, tz=UTC),
        time_ms=time_ms,
    )


class KeycloakEventFeed:
    def __init__(
        self, db: Database, source: KeycloakProvisioner, *, interval_seconds: float = 2.0
    ) -> None:
        self.db = db
        self.source = source
        self.interval_seconds = interval_seconds
        self._since_ms = 0  # first run: everything Keycloak still keeps
        self._users: dict[str, dict[str, str]] = {}

    def poll_once(self) -> int:
        """Read the events since the last poll (with overlap); returns how many rows it wrote."""
        events: list[SignInEvent] = []
        first = 0
        while True:
            page = self.source.events(self._since_ms, first, PAGE)
            events += [e for e in map(sign_in_event, page) if e is not None]
            if len(page) < PAGE:
                break
            first += PAGE
        written = 0
        for event in sorted(events, key=lambda e: e.time_ms):
            if self._write(event):
                written += 1
        if events:
            newest = max(e.time_ms for e in events)
            self._since_ms = max(self._since_ms, newest - OVERLAP_MS)
        return written

    def _tenant(self, event: SignInEvent) -> dict[str, str]:
        if not event.user_id:
            return {}
        if event.user_id not in self._users:
            self._users[event.user_id] = self.source.user_attributes(event.user_id)
        return self._users[event.user_id]

    def _write(self, event: SignInEvent) -> bool:
        user = self._tenant(event)
        path = user.get("tenant_path", "")
        if not path:  # unknown username, a partner's service account, a deleted user
            return False
        username = event.username or user.get("username", "")
        with self.db.unit_of_work(Scope.system_scope()) as s:
            if not first_time(s, CONSUMER, event.event_id):
                return False
            repo.add_audit_row(
                s,
                tenant_path=path,
                action=event.action,
                username=username,
                actor=username,
                client_ip=event.client_ip,
                details={"client_id": event.client_id, "source": "keycloak"},
                occurred_at=event.occurred_at,
            )
        return True

    def run(self, stop: threading.Event) -> None:
        """Poll until ``stop``; Keycloak or the database being away only delays the feed."""
        while not stop.is_set():
            try:
                self.poll_once()
            except DomainError as exc:  # Keycloak unreachable: try again
                log.warning("keycloak events: %s", exc)
            except Exception:  # noqa: BLE001 - the database away; the next poll catches up
                log.exception("keycloak events: poll failed")
            stop.wait(self.interval_seconds)
