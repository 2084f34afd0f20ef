"""Wiring of the talent service from its settings (one place, used by __main__ and tests)."""

from __future__ import annotations

from dataclasses import dataclass

from kepu_common.auth import TokenVerifier
from kepu_common.db import Database
from kepu_common.objects import ObjectStore, open_store

from .archive import ArchiveService
from .crypto import KeyRing
from .documents import Documents
from .grpc_api import TalentServicer
from .imports import ImportJobs
from .service import TalentService
from .settings import TalentSettings


@dataclass
class TalentApp:
    settings: TalentSettings
    db: Database
    talents: TalentService
    documents: Documents
    archive: ArchiveService
    imports: ImportJobs

    def servicer(self, verifier: TokenVerifier) -> TalentServicer:
        return TalentServicer(
            verifier, self.db, self.talents, self.documents, self.archive, self.imports
        )


def make_store(settings: TalentSettings) -> ObjectStore:
    return open_store(
        settings.object_store,
        settings.object_store_path,
        endpoint=settings.s3_endpoint,
        bucket=settings.s3_bucket,
        access_key=settings.s3_access_key,
        secret_key=settings.s3_secret_key,
        region=settings.s3_region,
    )


def build(
    settings: TalentSettings, db: Database | None = None, store: ObjectStore | None = None
) -> TalentApp:
    db = db or Database(settings.database_url, pool_size=10)
    keys = KeyRing.from_config(settings.resolved_data_keys, settings.resolved_hmac_key)
    talents = TalentService(keys, settings)
    return TalentApp(
        settings,
        db,
        talents,
        Documents(talents),
        ArchiveService(talents, store or make_store(settings)),
        ImportJobs(db, talents),
    )
