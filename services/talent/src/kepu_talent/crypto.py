"""Personal data at rest: AES-GCM with versioned keys, and keyed hashes for matching.

A sealed value is ``b"\\x01" + key_version (2 bytes) + nonce (12) + ciphertext``;
the associated data binds it to one talent and one field, so a ciphertext copied
to another row or column does not open. Old key versions stay in the ring to
decrypt; new values use the current (highest) version. The HMAC of a normalised
value lets the province find duplicates without decrypting anything.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import struct

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

FORMAT = 1

# Only for local runs and tests; deployments set TALENT_DATA_KEYS and TALENT_HMAC_KEY.
DEV_DATA_KEYS = "1:" + base64.b64encode(hashlib.sha256(b"kepu-talent-dev-key-1").digest()).decode()
DEV_HMAC_KEY = base64.b64encode(hashlib.sha256(b"kepu-talent-dev-hmac").digest()).decode()


class KeyRing:
    def __init__(self, keys: dict[int, bytes], hmac_key: bytes) -> None:
        if not keys:
            raise ValueError("at least one data key is required")
        for version, key in keys.items():
            if len(key) != 32 or not 0 < version < 65536:
                raise ValueError("data keys must be 32 bytes with a version 1..65535")
        if len(hmac_key) < 32:
            raise ValueError("the HMAC key must have at least 32 bytes")
        self._aeads = {v: AESGCM(k) for v, k in keys.items()}
        self.current = max(keys)
        self._hmac_key = hmac_key

    @classmethod
    def from_config(cls, data_keys: str, hmac_key: str) -> KeyRing:
        """``data_keys`` is ``"1:<base64>,2:<base64>"``; the highest version encrypts."""
        keys: dict[int, bytes] = {}
        for part in data_keys.split(","):
            if part.strip():
                version, _, value = part.strip().partition(":")
                keys[int(version)] = base64.b64decode(value)
        return cls(keys, base64.b64decode(hmac_key))

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

    def fingerprint(self, kind: str, normalised: str) -> str | None:
        """Keyed hash of a normalised value (``kind`` separates ID numbers from name+phone)."""
        if not normalised:
            return None
        return hmac.new(self._hmac_key, f"{kind}:{normalised}".encode(), hashlib.sha256).hexdigest()
