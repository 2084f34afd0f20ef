"""The first install's hooks: what runs, in which order, with what (rendered, not run).

test_install_replay.py runs these same hooks as processes against a real PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from conftest import RELEASE, SERVICES, Rendered
from helm_hooks import hook_events, hook_weight, hooks_in_order
from kepu_identity import domain


def job_names(hooks: list[dict[str, Any]]) -> list[str]:
    return [h["metadata"]["name"] for h in hooks if h["kind"] == "Job"]


def only_container(job: dict[str, Any]) -> dict[str, Any]:
    (c,) = job["spec"]["template"]["spec"]["containers"]
    return c


def init_containers(job: dict[str, Any]) -> list[dict[str, Any]]:
    return list(job["spec"]["template"]["spec"].get("initContainers", []))


def env_of(container: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container.get("env", [])}


def test_migrations_then_the_tree_before_install_then_admin_then_credentials(
    umbrella: Rendered,
) -> None:
    pre = job_names(hooks_in_order(umbrella, "pre-install"))
    migrations = sorted(f"{RELEASE}-{svc}-migrate" for svc in SERVICES)
    assert pre == [*migrations, f"{RELEASE}-identity-seed"]
    post = job_names(hooks_in_order(umbrella, "post-install"))
    assert post == [f"{RELEASE}-identity-bootstrap-admin", f"{RELEASE}-identity-credentials"]


def test_an_upgrade_migrates_then_seeds_and_issues_no_account(umbrella: Rendered) -> None:
    pre = job_names(hooks_in_order(umbrella, "pre-upgrade"))
    assert pre[-1] == f"{RELEASE}-identity-seed"
    assert not job_names(hooks_in_order(umbrella, "post-upgrade"))


def test_the_tree_is_seeded_without_any_demo_account(umbrella: Rendered) -> None:
    seed = umbrella.named("Job", f"{RELEASE}-identity-seed")
    c = only_container(seed)
    assert c["args"] == ["python", "-m", "kepu_identity", "seed", "--no-demo"]
    env = env_of(c)
    assert not {"DEMO_ADMIN_USER", "DEMO_ADMIN_PASSWORD", "DEMO_PARTNER_SECRET"} & set(env)
    assert "IDENTITY_MIGRATION_DATABASE_URL" not in env  # the app role is enough (system scope)
    assert hook_events(seed) == {"pre-install", "pre-upgrade"}
    migrations = [umbrella.named("Job", f"{RELEASE}-{svc}-migrate") for svc in SERVICES]
    assert hook_weight(seed) > max(hook_weight(m) for m in migrations)


def test_the_first_admin_comes_from_a_one_time_secret(umbrella: Rendered) -> None:
    job = umbrella.named("Job", f"{RELEASE}-identity-bootstrap-admin")
    c = only_container(job)
    assert c["args"] == [
        "python",
        "-m",
        "kepu_identity",
        "bootstrap-admin",
        "--tenant-code",
        "410000",
    ]
    secret_name = f"{RELEASE}-identity-bootstrap-admin"
    env = env_of(c)
    assert env["BOOTSTRAP_ADMIN_USER"]["secretKeyRef"] == {"name": secret_name, "key": "username"}
    assert env["BOOTSTRAP_ADMIN_PASSWORD"]["secretKeyRef"] == {
        "name": secret_name,
        "key": "password",
    }
    secret = umbrella.named("Secret", secret_name)
    assert hook_events(secret) == {"pre-install"}  # rendered once, never again on upgrade
    assert secret["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    assert secret["stringData"]["username"] == "kx410000"


def test_the_generated_initial_password_always_meets_the_policy(
    render: Callable[..., Rendered],
) -> None:
    for _ in range(5):
        secret = render(chart="identity").named("Secret", f"{RELEASE}-identity-bootstrap-admin")
        domain.check_policy(secret["stringData"]["password"], secret["stringData"]["username"])


def test_an_existing_secret_replaces_the_generated_one(render: Callable[..., Rendered]) -> None:
    r = render({"identity": {"bootstrapAdmin": {"existingSecret": "hnkx-first-admin"}}})
    assert f"{RELEASE}-identity-bootstrap-admin" not in r.names("Secret")
    c = only_container(r.named("Job", f"{RELEASE}-identity-bootstrap-admin"))
    assert env_of(c)["BOOTSTRAP_ADMIN_PASSWORD"]["secretKeyRef"]["name"] == "hnkx-first-admin"


@pytest.mark.parametrize("job", ["bootstrap-admin", "credentials"])
def test_post_install_jobs_wait_for_identity_and_the_realm_first(
    umbrella: Rendered, job: str
) -> None:
    doc = umbrella.named("Job", f"{RELEASE}-identity-{job}")
    (wait,) = init_containers(doc)
    assert wait["args"][:4] == ["python", "-m", "kepu_identity", "wait-ready"]
    timeout = float(wait["args"][wait["args"].index("--timeout") + 1])
    assert 0 < timeout < doc["spec"]["activeDeadlineSeconds"]  # bounded, and leaves time to act
    env = env_of(wait)
    host, port = env["IDENTITY_GRPC_TARGET"].split(":")
    service = umbrella.named("Service", host)
    assert int(port) in [p["port"] for p in service["spec"]["ports"]]
    assert env["IDP"] == "keycloak"
    assert env["KEYCLOAK_URL"] == env_of(only_container(doc))["KEYCLOAK_URL"]
    assert env["KEYCLOAK_URL"].startswith(f"http://{RELEASE}-keycloak-service:")
    assert env["KEYCLOAK_REALM"] == "kepu"
    assert not [e for e in wait["env"] if "valueFrom" in e]  # no credential in the wait


def test_the_embedded_idp_waits_for_identity_only(render: Callable[..., Rendered]) -> None:
    r = render({"global": {"idp": "embedded"}})
    (wait,) = init_containers(r.named("Job", f"{RELEASE}-identity-credentials"))
    assert env_of(wait)["IDP"] == "embedded"


def test_the_migration_job_waits_for_the_database_it_migrates(umbrella: Rendered) -> None:
    for svc in SERVICES:
        (wait,) = init_containers(umbrella.named("Job", f"{RELEASE}-{svc}-migrate"))
        env = env_of(wait)
        url = env_of(only_container(umbrella.named("Job", f"{RELEASE}-{svc}-migrate")))[
            f"{svc.upper()}_MIGRATION_DATABASE_URL"
        ]
        assert f"@{env['KEPU_PG_HOST']}:{env['KEPU_PG_PORT']}/" in url
