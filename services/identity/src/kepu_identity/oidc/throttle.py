"""Throttling of sign-in failures per source address and per username (the embedded provider).

The lockout (five failures lock an account for 15 minutes, as Keycloak's brute-force
detection does) protects one account; this protects against guessing across many: once an
address or a username has too many recent failures, every sign-in path (password grant,
login form, TOTP step, password change) answers 429 until the window has passed. Unknown
usernames are counted like real ones, so the answers do not tell them apart.

Counters live in the process (one identity server per deployment serves ``/auth``); a
restart forgets them, the database lockout stays.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque

WINDOW_SECONDS = 600
MAX_FAILURES_PER_ADDRESS = 30  # one office behind one NAT address signs in many users
MAX_FAILURES_PER_USERNAME = 10  # twice the lockout threshold: the lockout acts first


class SignInThrottle:
    def __init__(
        self,
        *,
        per_address: int = MAX_FAILURES_PER_ADDRESS,
        per_username: int = MAX_FAILURES_PER_USERNAME,
        window: float = WINDOW_SECONDS,
    ) -> None:
        self.limits = {"ip": per_address, "user": per_username}
        self.window = window
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    @staticmethod
    def _keys(address: str, username: str) -> list[tuple[str, str]]:
        keys = [("ip", f"ip:{address}")] if address else []
        if username:
            keys.append(("user", f"user:{username.strip().lower()}"))
        return keys

    def _recent(self, key: str, now: float) -> deque[float]:
        q = self._failures[key]
        while q and q[0] <= now - self.window:
            q.popleft()
        return q

    def retry_after(self, address: str, username: str) -> int:
        """Seconds until a sign-in from ``address`` for ``username`` is heard again (0: now)."""
        now = time.monotonic()
        wait = 0.0
        with self._lock:
            for kind, key in self._keys(address, username):
                q = self._recent(key, now)
                if len(q) >= self.limits[kind]:
                    wait = max(wait, q[len(q) - self.limits[kind]] + self.window - now)
                if not q:
                    self._failures.pop(key, None)
        return int(wait) + 1 if wait > 0 else 0

    def failed(self, address: str, username: str) -> None:
        now = time.monotonic()
        with self._lock:
            for _kind, key in self._keys(address, username):
                self._recent(key, now).append(now)
            if len(self._failures) > 100_000:  # a flood of invented names: forget the oldest
                for key in list(self._failures)[:50_000]:
                    del self._failures[key]
