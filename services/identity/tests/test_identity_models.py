"""models.py describes the schema the migrations build: every table and column, type and nullability."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from kepu_identity import models

MIGRATIONS = Path(models.__file__).parent / "migrations"


def test_models_match_a_freshly_migrated_database(schema_drift: Callable[..., list[str]]) -> None:
    assert schema_drift(models.metadata, MIGRATIONS) == []
