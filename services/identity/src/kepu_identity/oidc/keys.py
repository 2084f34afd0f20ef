"""Signing keys: RS256, rotated every KEY_ROTATION_HOURS, private parts sealed at rest.

The JWKS publishes every key young enough to have signed a still-valid token
(two rotation periods), so a rotation never invalidates tokens in flight.
"""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

from joserfc.jwk import KeySet, RSAKey
from kepu_common.db import Database, Scope

from .. import repository as repo
from ..crypto import Sealer


class KeyRing:
    def __init__(self, db: Database, sealer: Sealer, rotation_hours: float) -> None:
        self.db = db
        self.sealer = sealer
        self.rotation_seconds = rotation_hours * 3600
        self._lock = threading.Lock()
        self._cached: tuple[float, RSAKey, dict[str, Any]] | None = None

    def _load(self) -> tuple[RSAKey, dict[str, Any]]:
        with self.db.unit_of_work(Scope.system_scope()) as s:
            repo.lock_signing_keys(s)
            rows = repo.signing_keys_newest_first(s)
            if not rows or rows[0].age > self.rotation_seconds:
                kid = uuid.uuid4().hex
                key = RSAKey.generate_key(
                    2048, parameters={"kid": kid, "use": "sig", "alg": "RS256"}
                )
                public = key.as_dict(private=False)
                repo.insert_signing_key(
                    s, kid, self.sealer.seal(key.as_pem(private=True), kid.encode()), public
                )
                current = key
                published = [public]
            else:
                top = rows[0]
                pem = self.sealer.open(top.private_key, top.kid.encode())
                current = RSAKey.import_key(
                    pem, parameters={"kid": top.kid, "use": "sig", "alg": "RS256"}
                )
                published = [top.public_jwk]
            # Older keys stay published while tokens they signed may still be in flight.
            limit = 2 * self.rotation_seconds + 3600
            published += [r.public_jwk for r in rows if r.kid != current.kid and r.age <= limit]
            repo.delete_signing_keys_older_than(s, 4 * self.rotation_seconds + 3600)
        return current, {"keys": published}

    def current(self) -> tuple[RSAKey, dict[str, Any]]:
        with self._lock:
            now = time.monotonic()
            if self._cached is None or now - self._cached[0] > 60:
                key, jwks = self._load()
                self._cached = (now, key, jwks)
            return self._cached[1], self._cached[2]

    def signing_key(self) -> RSAKey:
        return self.current()[0]

    def jwks(self) -> dict[str, Any]:
        return self.current()[1]

    def keyset(self) -> KeySet:
        return KeySet.import_key_set(self.jwks())  # type: ignore[arg-type]

    def rotate_now(self) -> None:
        """Force a new key (operators, tests); old keys stay published."""
        with self.db.unit_of_work(Scope.system_scope()) as s:
            repo.age_signing_keys(s, self.rotation_seconds + 1)
        with self._lock:
            self._cached = None
