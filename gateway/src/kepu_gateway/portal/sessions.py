"""Server-side portal sessions: tokens never reach the browser, only an opaque signed cookie id."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

COOKIE = "kepu_portal"
IDLE_SECONDS = 30 * 60  # SSO idle session of the provider (spec section 2)


@dataclass
class PortalSession:
    id: str
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    last_seen: float = field(default_factory=time.time)
    login: dict[str, str] | None = None  # state, verifier, nonce, next: while the code flow runs
    access_token: str = ""
    access_exp: float = 0.0
    refresh_token: str = ""
    id_token: str = ""
    user: dict[str, Any] = field(default_factory=dict)
    flashes: list[tuple[str, str]] = field(default_factory=list)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def signed_in(self) -> bool:
        return bool(self.access_token)

    def flash(self, kind: str, message: str) -> None:
        self.flashes.append((kind, message))

    def take_flashes(self) -> list[tuple[str, str]]:
        out, self.flashes = self.flashes, []
        return out


class SessionStore:
    """In-memory sessions of one gateway process, keyed by a random id; the cookie carries an HMAC."""

    def __init__(self, secret: bytes | None = None) -> None:
        env = os.environ.get("PORTAL_SESSION_SECRET", "")
        self.secret = secret or (env.encode() if env else secrets.token_bytes(32))
        self._items: dict[str, PortalSession] = {}
        self._mutex = threading.Lock()

    def _sign(self, sid: str) -> str:
        return hmac.new(self.secret, sid.encode(), hashlib.sha256).hexdigest()[:32]

    def cookie_value(self, s: PortalSession) -> str:
        return f"{s.id}.{self._sign(s.id)}"

    def create(self) -> PortalSession:
        s = PortalSession(id=secrets.token_urlsafe(24))
        with self._mutex:
            self._purge()
            self._items[s.id] = s
        return s

    def from_cookie(self, value: str | None) -> PortalSession | None:
        if not value or "." not in value:
            return None
        sid, _, sig = value.rpartition(".")
        if not hmac.compare_digest(sig, self._sign(sid)):
            return None
        with self._mutex:
            s = self._items.get(sid)
        if s is None:
            return None
        if time.time() - s.last_seen > IDLE_SECONDS:
            self.drop(s)
            return None
        return s

    def rotate(self, s: PortalSession) -> PortalSession:
        """A fresh id after sign-in (no session fixation)."""
        with self._mutex:
            self._items.pop(s.id, None)
            s.id = secrets.token_urlsafe(24)
            s.csrf = secrets.token_urlsafe(24)
            self._items[s.id] = s
        return s

    def drop(self, s: PortalSession) -> None:
        with self._mutex:
            self._items.pop(s.id, None)

    def _purge(self) -> None:
        if len(self._items) < 1000:
            return
        cutoff = time.time() - IDLE_SECONDS
        for sid in [k for k, v in self._items.items() if v.last_seen < cutoff]:
            del self._items[sid]
