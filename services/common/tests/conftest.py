from pathlib import Path

import pytest
from kepu_common.db import Database

MIGRATIONS = Path(__file__).parent / "migrations"


@pytest.fixture(scope="module")
def db(service_database) -> Database:
    _owner, app_url = service_database("common", MIGRATIONS)
    database = Database(app_url)
    yield database
    database.dispose()
