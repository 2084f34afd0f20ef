"""Personal data of projects at rest (联系电话), with ``kepu_common.crypto``."""

from __future__ import annotations

import base64
import hashlib

from kepu_common.crypto import DataKeys

# Only for local runs and tests; the launcher and the charts set PROJECTS_SECRET_KEY.
DEV_KEY = base64.b64encode(hashlib.sha256(b"kepu-projects-dev-key-1").digest()).decode()


class KeyRing(DataKeys):
    @classmethod
    def from_config(cls, data_keys: str = "", secret_key: str = "") -> KeyRing:
        """``data_keys`` is ``"1:<base64>,2:<base64>"``; else ``secret_key`` is version 1."""
        return cls(cls.parse(data_keys or f"1:{secret_key or DEV_KEY}"))


def phone_context(project_id: str) -> str:
    return f"project:{project_id}:contact_phone"
