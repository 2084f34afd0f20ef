"""Personal data at rest (联系电话): AES-GCM with versioned keys.

A sealed value is ``b"\\x01" + key_version (2 bytes) + nonce (12) + ciphertext``; the
associated data binds it to one project and one field, so a ciphertext copied to another
row does not open. Old versions stay in the ring to decrypt; the highest one encrypts.
"""

from __future__ import annotations

import base64
import hashlib
import os
import struct

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

FORMAT = 1
# Only for local runs and tests; the launcher and the charts set PROJECTS_SECRET_KEY.
DEV_KEY = base64.b64encode(hashlib.sha256(b"kepu-projects-dev-key-1").digest()).decode()


class KeyRing:
    def __init__(self, keys: dict[int, bytes]) -> None:
        if not keys:
            raise ValueError("at least one data key is required")
        for version, key in keys.items():
            if len(key) != 32 or not 0 < version < 65536:
                raise ValueError("data keys must be 32 bytes with a version 1..65535")
        self._aeads = {v: AESGCM(k) for v, k in keys.items()}
        self.current = max(keys)

    @classmethod
    def from_config(cls, data_keys: str = "", secret_key: str = "") -> KeyRing:
        """``data_keys`` is ``"1:<base64>,2:<base64>"``; else ``secret_key`` is version 1."""
        spec = data_keys or f"1:{secret_key or DEV_KEY}"
        keys: dict[int, bytes] = {}
        for part in spec.split(","):
            if part.strip():
                version, _, value = part.strip().partition(":")
                keys[int(version)] = base64.b64decode(value)
        return cls(keys)

    def seal(self, plaintext: str, context: str) -> bytes | None:
        if not plaintext:
            return None
        nonce = os.urandom(12)
        body = self._aeads[self.current].encrypt(nonce, plaintext.encode(), context.encode())
        return bytes([FORMAT]) + struct.pack(">H", self.current) + nonce + body

    def open(self, sealed: bytes | None, context: str) -> str:
        if not sealed:
            return ""
        sealed = bytes(sealed)
        if sealed[0] != FORMAT:
            raise ValueError("unknown ciphertext format")
        (version,) = struct.unpack(">H", sealed[1:3])
        aead = self._aeads.get(version)
        if aead is None:
            raise ValueError(f"data key version {version} is not configured")
        try:
            return aead.decrypt(sealed[3:15], sealed[15:], context.encode()).decode()
        except InvalidTag as exc:
            raise ValueError("ciphertext does not belong to this record") from exc


def phone_context(project_id: str) -> str:
    return f"project:{project_id}:contact_phone"
