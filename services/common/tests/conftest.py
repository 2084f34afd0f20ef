from pathlib import Path

import pytest
from kepu_common.db import Database

MIGRATIONS = Path(__file__).parent / "migrations"


@pytest.fixture(scope="module")
def db(service_database, request) -> Database:
    # One database per test module: relays republish whatever an earlier module left retained.
    name = "common_" + request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")[:20]
    _owner, app_url = service_database(name, MIGRATIONS)
    database = Database(app_url)
    yield database
    database.dispose()
