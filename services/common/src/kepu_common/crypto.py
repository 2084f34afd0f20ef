"""Personal data at rest: AES-GCM with versioned data keys (SPEC rule 10).

A sealed value is ``b"\\x01" + key_version (2 bytes) + nonce (12) + ciphertext``; the
associated data (``context``) binds it to one record and one field, so a ciphertext
copied to another row or column does not open. Old key versions stay configured to
decrypt; new values use the highest version. Keys are configured as
``"1:<base64 32 bytes>,2:<base64 32 bytes>"``.
"""

from __future__ import annotations

import base64
import os
import struct

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

FORMAT = 1


class DataKeys:
    def __init__(self, keys: dict[int, bytes]) -> None:
        if not keys:
            raise ValueError("at least one data key is required")
        for version, key in keys.items():
            if len(key) != 32 or not 0 < version < 65536:
                raise ValueError("data keys must be 32 bytes with a version 1..65535")
        self._aeads = {v: AESGCM(k) for v, k in keys.items()}
        self.current = max(keys)

    @staticmethod
    def parse(spec: str) -> dict[int, bytes]:
        """``"1:<base64>,2:<base64>"`` -> {version: key}."""
        keys: dict[int, bytes] = {}
        for part in spec.split(","):
            if part.strip():
                version, _, value = part.strip().partition(":")
                keys[int(version)] = base64.b64decode(value)
        return keys

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

    def key_version(self, sealed: bytes) -> int:
        return int(struct.unpack(">H", bytes(sealed)[1:3])[0])
