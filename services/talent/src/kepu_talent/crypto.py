"""Personal data of talents at rest (``kepu_common.crypto``), plus keyed hashes for matching.

The HMAC of a normalised value lets the province find duplicates (same ID number, or
same name + phone) without decrypting anything.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from kepu_common.crypto import DataKeys

# Only for local runs and tests; deployments set TALENT_DATA_KEYS and TALENT_HMAC_KEY.
DEV_DATA_KEYS = "1:" + base64.b64encode(hashlib.sha256(b"kepu-talent-dev-key-1").digest()).decode()
DEV_HMAC_KEY = base64.b64encode(hashlib.sha256(b"kepu-talent-dev-hmac").digest()).decode()


class KeyRing(DataKeys):
    def __init__(self, keys: dict[int, bytes], hmac_key: bytes) -> None:
        super().__init__(keys)
        if len(hmac_key) < 32:
            raise ValueError("the HMAC key must have at least 32 bytes")
        self._hmac_key = hmac_key

    @classmethod
    def from_config(cls, data_keys: str, hmac_key: str) -> KeyRing:
        """``data_keys`` is ``"1:<base64>,2:<base64>"``; the highest version encrypts."""
        return cls(cls.parse(data_keys), base64.b64decode(hmac_key))

    def fingerprint(self, kind: str, normalised: str) -> str | None:
        """Keyed hash of a normalised value (``kind`` separates ID numbers from name+phone)."""
        if not normalised:
            return None
        return hmac.new(self._hmac_key, f"{kind}:{normalised}".encode(), hashlib.sha256).hexdigest()
