"""Fixtures: a migrated talent database, the Henan sample tree fed through the consumer."""

from __future__ import annotations

import pytest
from kepu_common.consumer import handle_once
from kepu_common.db import Database
from kepu_talent import consumers
from kepu_talent.app import build
from kepu_talent.settings import TalentSettings
from talent_support import MIGRATIONS, TREE, EdgeApp, tenant_envelope


@pytest.fixture(scope="session")
def database(service_database) -> Database:
    _owner, app_url = service_database("talent", MIGRATIONS)
    db = Database(app_url)
    for path, kind, name in TREE:
        handle_once(
            db, consumers.CONSUMER, tenant_envelope(path, kind, name), consumers.on_identity_event
        )
    yield db
    db.dispose()


@pytest.fixture(scope="session")
def app(database, tmp_path_factory) -> EdgeApp:
    settings = TalentSettings(
        TALENT_DATABASE_URL="postgresql://unused",
        TALENT_OBJECT_STORE_PATH=str(tmp_path_factory.mktemp("objects")),
    )
    return EdgeApp(build(settings, db=database))
