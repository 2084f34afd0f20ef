"""The install steps of identity: readiness wait, first admin, a distribution safe to rerun.

The chart runs them as Helm hooks; tests/charts/test_install_replay.py replays the chart.
"""

from __future__ import annotations

import pytest
from kepu_common.db import Scope
from kepu_identity import passwords, readiness, seed
from kepu_identity import repository as repo
from kepu_identity.credentials import CredentialDistributor, DistributionResult

from .conftest import make_identity, principal_of


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_the_wait_reports_what_it_waits_for_and_gives_up_in_time() -> None:
    clock, lines = Clock(), []
    ready_at = {"identity": 7.0}
    identity = readiness.Dependency(
        "身份服务", lambda: None if clock.now >= ready_at["identity"] else "gRPC UNAVAILABLE"
    )
    realm = readiness.Dependency("Keycloak 域 kepu", lambda: "HTTP 404")
    ok = readiness.wait_until_ready(
        [identity, realm],
        60,
        interval_seconds=1,
        report_every_seconds=20,
        log=lines.append,
        clock=clock,
        sleep=clock.sleep,
    )
    assert ok is False
    assert clock.now == 60  # bounded: one budget for both
    assert lines[0] == "等待身份服务就绪（最多 60 秒）……"
    assert "身份服务已就绪" in lines[1]
    assert lines[-1] == "等待Keycloak 域 kepu超时（60 秒）：HTTP 404"
    assert any(line.startswith("仍在等待Keycloak 域 kepu") for line in lines)


def test_the_wait_returns_at_once_when_everything_answers() -> None:
    clock, lines = Clock(), []
    assert readiness.wait_until_ready(
        [readiness.Dependency("身份服务", lambda: None)],
        5,
        log=lines.append,
        clock=clock,
        sleep=clock.sleep,
    )
    assert clock.now == 0


@pytest.fixture(scope="module")
def fresh(service_database):
    """An identity database with the tree only, as `seed --no-demo` leaves it."""
    from .conftest import MIGRATIONS

    _owner, app_url = service_database("identity_install", MIGRATIONS)
    ident = make_identity(app_url)
    seed.seed_tree(ident.db)
    return ident


def test_the_tree_seed_is_idempotent(fresh) -> None:
    assert seed.seed_tree(fresh.db) == 0


def test_the_first_admin_must_change_its_password_and_a_rerun_keeps_a_changed_one(fresh) -> None:
    assert seed.bootstrap_admin(fresh.db, "kx410000", "Chushi#2026x") == "created"
    with fresh.db.unit_of_work(Scope.system_scope()) as s:
        admin = repo.user_by_username(s, "kx410000")
    assert admin is not None and admin.must_change_password and admin.is_tenant_admin
    assert admin.tenant_code == "410000"

    fresh.accounts.change_password("kx410000", "Chushi#2026x", "Xinmima#2027y")
    assert seed.bootstrap_admin(fresh.db, "kx410000", "Chushi#2026x") == "exists"
    with fresh.db.unit_of_work(Scope.system_scope()) as s:
        again = repo.user_by_username(s, "kx410000")
    assert again is not None and not again.must_change_password
    assert passwords.verify_password(again.password_hash, "Xinmima#2027y")


def test_a_second_admin_name_does_not_take_the_tenant(fresh) -> None:
    seed.bootstrap_admin(fresh.db, "kx410000", "Chushi#2026x")
    assert seed.bootstrap_admin(fresh.db, "other_admin", "Chushi#2026x") == "tenant_has_admin"


def test_a_failed_store_of_the_sheet_is_delivered_by_the_next_run(fresh) -> None:
    city = principal_of(fresh, "411600")  # 周口
    caller = principal_of(fresh, "411600", roles=("admin", "platform_admin"))
    assert fresh.distributor.outstanding(caller, city.tenant_id, "children") > 0

    def failing(_res: DistributionResult) -> None:
        raise OSError("the API server went away")

    with pytest.raises(OSError, match="went away"):
        fresh.distributor.distribute(caller, city.tenant_id, "children", deliver=failing)
    kept: list[DistributionResult] = []
    again = CredentialDistributor(fresh.db, fresh.sealer, login_url="http://kepu.test/")
    result = again.distribute(caller, city.tenant_id, "children", deliver=kept.append)
    assert kept == [result]
    assert len(result.issued) == len(repo_children(fresh, city.tenant_id))  # nothing lost
    assert fresh.distributor.outstanding(caller, city.tenant_id, "children") == 0


def repo_children(ident, tenant_id: str) -> list:
    with ident.db.unit_of_work(Scope.system_scope()) as s:
        return repo.children(s, tenant_id)
