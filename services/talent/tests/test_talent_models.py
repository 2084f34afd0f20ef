"""models.py describes the schema the migrations build: every table and column, type and nullability."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kepu_common.db import make_engine
from kepu_common.tables import drift
from kepu_talent import models
from kepu_talent.volunteers import models as _volunteer_tables  # noqa: F401  (on models.metadata)

MIGRATIONS = Path(models.__file__).parent / "migrations"


def test_models_match_a_freshly_migrated_database(service_database: Any) -> None:
    owner_url, _app_url = service_database("models_talent", MIGRATIONS)
    engine = make_engine(owner_url)
    try:
        with engine.connect() as conn:
            assert drift(conn, models.metadata) == []
    finally:
        engine.dispose()
