from pathlib import Path

import pytest
from kepu_common.db import Database

MIGRATIONS = Path(__file__).parent / "migrations"


def _module_database(service_database, request, suffix: str = ""):
    name = "common_" + request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")[:20]
    _owner, app_url = service_database(name + suffix, MIGRATIONS)
    return Database(app_url)


@pytest.fixture(scope="module")
def db(service_database, request) -> Database:
    # One database per test module: relays republish whatever an earlier module left retained.
    database = _module_database(service_database, request)
    yield database
    database.dispose()


@pytest.fixture(scope="module")
def broker_db(service_database, any_broker, request) -> Database:
    # One database per test module and broker: relay epochs and processed events belong to
    # one broker's life, so the Kafka run must not inherit what the Tansu run left.
    database = _module_database(
        service_database, request, "_kafka" if "Kafka" in type(any_broker).__name__ else "_tansu"
    )
    yield database
    database.dispose()
