"""Sealing secrets at rest with AES-GCM under the service key (IDENTITY_SECRET_KEY)."""

from __future__ import annotations

import base64
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM


class Sealer:
    VERSION = b"\x01"

    def __init__(self, key_b64: str) -> None:
        key = base64.b64decode(key_b64)
        if len(key) != 32:
            raise ValueError("IDENTITY_SECRET_KEY must be base64 of 32 bytes")
        self._aead = AESGCM(key)

    def seal(self, plaintext: bytes, context: bytes = b"") -> bytes:
        nonce = os.urandom(12)
        return self.VERSION + nonce + self._aead.encrypt(nonce, plaintext, context)

    def open(self, sealed: bytes, context: bytes = b"") -> bytes:
        sealed = bytes(sealed)
        return self._aead.decrypt(sealed[1:13], sealed[13:], context)
