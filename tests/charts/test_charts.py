"""The Helm charts, rendered by Helm and checked the way an operator relies on them.

Built-in kinds are validated strictly against the Kubernetes schemas of kubernetes-validate;
operator kinds (CloudNativePG, Strimzi, Keycloak) against the minimal schemas in
chart_crd_schemas.py.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import helm_python as helm
import jsonschema
import kubernetes_validate
import pytest
from chart_crd_schemas import SCHEMAS
from conftest import COMPONENTS, NAMESPACE, RELEASE, SERVICES, Rendered, together

KUBERNETES_VERSION = "1.30.0"
CRD_API_GROUPS = (
    "postgresql.cnpg.io/",
    "barmancloud.cnpg.io/",
    "kafka.strimzi.io/",
    "k8s.keycloak.org/",
    "monitoring.coreos.com/",
)


def hook(doc: dict[str, Any]) -> set[str]:
    value = doc["metadata"].get("annotations", {}).get("helm.sh/hook", "")
    return {h.strip() for h in value.split(",") if h.strip()}


def hook_weight(doc: dict[str, Any]) -> int:
    return int(doc["metadata"].get("annotations", {}).get("helm.sh/hook-weight", "0"))


def pod_spec(doc: dict[str, Any]) -> dict[str, Any]:
    return doc["spec"]["template"]["spec"]


def containers(doc: dict[str, Any]) -> Iterator[dict[str, Any]]:
    spec = pod_spec(doc)
    yield from spec.get("initContainers", [])
    yield from spec["containers"]


def env_of(container: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container.get("env", [])}


def workloads(r: Rendered) -> list[dict[str, Any]]:
    return r.of_kind("Deployment") + r.of_kind("Job")


# --- rendering and schemas -------------------------------------------------------------------


def test_umbrella_renders_every_component(umbrella: Rendered) -> None:
    deployments = umbrella.names("Deployment")
    for svc in SERVICES:
        for role in ("serve", "relay", "worker"):
            assert f"{RELEASE}-{svc}-{role}" in deployments
        assert f"{RELEASE}-{svc}" in umbrella.names("Service")
        assert f"{RELEASE}-{svc}-migrate" in umbrella.names("Job")
        assert f"{RELEASE}-{svc}-serve" in umbrella.names("PodDisruptionBudget")
    assert f"{RELEASE}-gateway" in deployments
    for kind in ("Kafka", "KafkaNodePool", "Keycloak", "KeycloakRealmImport", "PrometheusRule"):
        assert len(umbrella.of_kind(kind)) == 1, kind
    assert umbrella.of_kind("Cluster") == []  # the data plane is charts/kepu-data


BACKUP = {
    "backup": {
        "enabled": True,
        "destinationPath": "s3://kepu-backups/henan",
        "endpointURL": "https://oss.example.cn",
        "credentialsSecret": "kepu-backup-s3",
    }
}


@pytest.fixture(scope="module")
def everything(render: Callable[..., Rendered], platform: Rendered) -> Rendered:
    """Every object the charts can render: the platform plus the data plane with backups."""
    return together(platform, render(BACKUP, chart="kepu-data"))


def test_every_manifest_validates_against_its_schema(everything: Rendered) -> None:
    checked_builtin = checked_crd = 0
    for doc, source in zip(everything.docs, everything.sources, strict=True):
        where = f"{doc['kind']}/{doc['metadata']['name']} from {source}"
        if doc["apiVersion"].startswith(CRD_API_GROUPS):
            schema = SCHEMAS.get((doc["apiVersion"], doc["kind"]))
            assert schema is not None, f"no schema for {where}"
            try:
                jsonschema.validate(doc, schema)
            except jsonschema.ValidationError as exc:
                pytest.fail(f"{where}: {exc.message} at {list(exc.absolute_path)}")
            checked_crd += 1
        else:
            try:
                kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
            except kubernetes_validate.ValidationError as exc:
                pytest.fail(f"{where}: {exc.message} at {list(exc.path)}")
            checked_builtin += 1
    assert checked_builtin > 40
    assert checked_crd > 15


def test_the_strict_validation_catches_a_mistyped_field(umbrella: Rendered) -> None:
    # Guards the test above: a misspelt field must not pass unnoticed.
    deployment = umbrella.named("Deployment", f"{RELEASE}-talent-serve")
    broken = {**deployment, "spec": {**deployment["spec"], "replica": 2}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


@pytest.mark.parametrize("component", COMPONENTS)
def test_each_component_chart_renders_on_its_own(
    render: Callable[..., Rendered], component: str
) -> None:
    alone = render(chart=component)
    assert alone.of_kind("Deployment")
    for doc in alone.docs:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


@pytest.mark.parametrize("chart", ["kepu-lib", *COMPONENTS, "kepu", "kepu-data"])
def test_helm_lint_finds_no_warning(chart_root: Path, chart: str) -> None:
    report = helm.lint(chart_root / chart, strict=True, with_subcharts=True)
    assert report["errors"] == []
    # Helm severities: 1 info (e.g. "icon is recommended"), 2 warning, 4 error.
    assert [m for m in report["messages"] if m["severity"] >= 2] == []


# --- what every workload must carry ----------------------------------------------------------


def test_every_deployment_has_probes(umbrella: Rendered) -> None:
    for deployment in umbrella.of_kind("Deployment"):
        for c in pod_spec(deployment)["containers"]:
            for probe in ("readinessProbe", "livenessProbe"):
                assert probe in c, f"{deployment['metadata']['name']}/{c['name']} lacks {probe}"


def test_services_answer_grpc_health_on_their_grpc_port(umbrella: Rendered) -> None:
    for svc in SERVICES:
        (c,) = pod_spec(umbrella.named("Deployment", f"{RELEASE}-{svc}-serve"))["containers"]
        assert c["args"] == ["python", "-m", f"kepu_{svc}", "serve"]
        assert c["readinessProbe"]["grpc"]["port"] == 50051
        assert c["livenessProbe"]["grpc"]["port"] == 50051
        assert {"name": "grpc", "containerPort": 50051, "protocol": "TCP"} in c["ports"]
        assert env_of(c)[f"{svc.upper()}_GRPC_PORT"] == "50051"


def test_every_pod_runs_as_non_root_on_a_read_only_filesystem(umbrella: Rendered) -> None:
    for doc in workloads(umbrella):
        name = doc["metadata"]["name"]
        assert pod_spec(doc)["securityContext"]["runAsNonRoot"] is True, name
        for c in containers(doc):
            sc = c["securityContext"]
            assert sc["runAsNonRoot"] is True, name
            assert sc["readOnlyRootFilesystem"] is True, name
            assert sc["allowPrivilegeEscalation"] is False, name
            assert sc["capabilities"]["drop"] == ["ALL"], name


def test_every_container_has_resource_requests_and_limits(umbrella: Rendered) -> None:
    for doc in workloads(umbrella):
        for c in containers(doc):
            where = f"{doc['metadata']['name']}/{c['name']}"
            assert {"cpu", "memory"} <= set(c["resources"]["limits"]), where
            assert {"cpu", "memory"} <= set(c["resources"]["requests"]), where


def test_every_pod_disruption_budget_selects_a_deployment(umbrella: Rendered) -> None:
    pod_labels = [pod_spec_labels(d) for d in umbrella.of_kind("Deployment")]
    assert umbrella.of_kind("PodDisruptionBudget")
    for pdb in umbrella.of_kind("PodDisruptionBudget"):
        wanted = pdb["spec"]["selector"]["matchLabels"].items()
        assert any(wanted <= labels.items() for labels in pod_labels), pdb["metadata"]["name"]


def pod_spec_labels(deployment: dict[str, Any]) -> dict[str, str]:
    return deployment["spec"]["template"]["metadata"]["labels"]


def test_services_route_to_the_serve_pods(umbrella: Rendered) -> None:
    deployments = {d["metadata"]["name"]: d for d in umbrella.of_kind("Deployment")}
    for svc in SERVICES:
        service = umbrella.named("Service", f"{RELEASE}-{svc}")
        selected = [
            name
            for name, d in deployments.items()
            if service["spec"]["selector"].items() <= pod_spec_labels(d).items()
        ]
        assert selected == [f"{RELEASE}-{svc}-serve"]
        assert service["spec"]["ports"][0]["port"] == 50051


# --- configuration from values and Secrets ---------------------------------------------------


def test_services_get_the_process_contract_environment(umbrella: Rendered) -> None:
    for svc in SERVICES:
        for role in ("serve", "relay", "worker"):
            (c,) = pod_spec(umbrella.named("Deployment", f"{RELEASE}-{svc}-{role}"))["containers"]
            env = env_of(c)
            url = env[f"{svc.upper()}_DATABASE_URL"]
            assert url.startswith("postgresql://$(KEPU_PG_APP_USER):$(KEPU_PG_APP_PASSWORD)@")
            assert f"@{RELEASE}-pg-rw:5432/{svc}?" in url
            assert env["KEPU_PG_APP_PASSWORD"]["secretKeyRef"]["name"] == f"{RELEASE}-pg-app"
            assert env["KAFKA_BOOTSTRAP_SERVERS"] == f"{RELEASE}-kafka-kafka-bootstrap:9093"
            assert env["KEPU_PG_APP_PASSWORD"]["secretKeyRef"]["key"] == "password-urlencoded"
            assert env["OIDC_ISSUER"] == "https://auth.kepu.example.cn/realms/kepu"
            assert env["OIDC_JWKS_URL"].startswith(f"http://{RELEASE}-keycloak-service:8080/")
            assert env["IDP"] == "keycloak"
            assert env["OTEL_EXPORTER_OTLP_ENDPOINT"]
            names = [e["name"] for e in c["env"]]
            # $(VAR) only expands variables defined earlier in the list.
            assert names.index("KEPU_PG_APP_PASSWORD") < names.index(f"{svc.upper()}_DATABASE_URL")


def test_owner_credentials_reach_only_the_migration_job(umbrella: Rendered) -> None:
    for svc in SERVICES:
        key = f"{svc.upper()}_MIGRATION_DATABASE_URL"
        for role in ("serve", "relay", "worker"):
            (c,) = pod_spec(umbrella.named("Deployment", f"{RELEASE}-{svc}-{role}"))["containers"]
            assert key not in env_of(c)
            assert "KEPU_PG_OWNER_PASSWORD" not in env_of(c)
        (migrate,) = pod_spec(umbrella.named("Job", f"{RELEASE}-{svc}-migrate"))["containers"]
        env = env_of(migrate)
        assert env[key].startswith("postgresql://$(KEPU_PG_OWNER_USER):$(KEPU_PG_OWNER_PASSWORD)@")
        assert env["KEPU_PG_OWNER_PASSWORD"]["secretKeyRef"]["name"] == f"{RELEASE}-pg-{svc}-owner"
        assert migrate["args"] == ["python", "-m", f"kepu_{svc}", "migrate"]


def test_no_password_appears_in_a_workload_manifest(platform: Rendered) -> None:
    passwords = {
        s["stringData"]["password"]
        for s in platform.of_kind("Secret")
        if "password" in s.get("stringData", {})
    }
    assert len(passwords) >= 7  # the app role, five owners, keycloak, the first admin
    text = repr(workloads(platform))
    assert not [p for p in passwords if p in text]


def test_every_required_secret_reference_is_rendered_by_the_chart(platform: Rendered) -> None:
    secrets = set(platform.names("Secret"))
    for doc in workloads(platform):
        for c in containers(doc):
            for e in c.get("env", []):
                ref = (e.get("valueFrom") or {}).get("secretKeyRef")
                if ref and not ref.get("optional"):
                    assert ref["name"] in secrets, f"{doc['metadata']['name']}: {e['name']}"
    for role in platform.named("Cluster", f"{RELEASE}-pg")["spec"]["managed"]["roles"]:
        assert role["passwordSecret"]["name"] in secrets


def test_admin_mfa_is_required_in_every_identity_container(umbrella: Rendered) -> None:
    identity = [d for d in workloads(umbrella) if d["metadata"]["name"].startswith("kepu-identity")]
    # serve, relay, worker, migrate, seed, bootstrap-admin, credentials
    assert len(identity) == 7
    for doc in identity:
        for c in pod_spec(doc)["containers"]:
            assert env_of(c)["ADMIN_MFA"] == "required", doc["metadata"]["name"]


def test_admin_mfa_follows_the_values(render: Callable[..., Rendered]) -> None:
    relaxed = render({"identity": {"adminMfa": "optional"}})
    (c,) = pod_spec(relaxed.named("Deployment", f"{RELEASE}-identity-serve"))["containers"]
    assert env_of(c)["ADMIN_MFA"] == "optional"


def test_identity_gets_its_sealing_key_from_a_kept_secret(platform: Rendered) -> None:
    secret = platform.named("Secret", f"{RELEASE}-identity-keys")
    annotations = secret["metadata"]["annotations"]
    assert annotations["helm.sh/resource-policy"] == "keep"
    assert not hook(secret)  # an ordinary object of charts/kepu-data
    (c,) = pod_spec(platform.named("Deployment", f"{RELEASE}-identity-serve"))["containers"]
    assert env_of(c)["IDENTITY_SECRET_KEY"]["secretKeyRef"]["name"] == f"{RELEASE}-identity-keys"


# --- hooks: migrations before the pods, credentials after ------------------------------------


def test_migration_jobs_are_pre_install_and_pre_upgrade_hooks(umbrella: Rendered) -> None:
    for svc in SERVICES:
        job = umbrella.named("Job", f"{RELEASE}-{svc}-migrate")
        assert hook(job) == {"pre-install", "pre-upgrade"}
        policy = job["metadata"]["annotations"]["helm.sh/hook-delete-policy"]
        assert "before-hook-creation" in policy


def test_no_data_plane_object_is_a_hook_and_every_one_is_kept(
    data_plane: Rendered, umbrella: Rendered
) -> None:
    # Helm never updates a hook object and deletes it before re-creating it on a reinstall
    # (before-hook-creation): the database and the keys must be ordinary, kept objects.
    assert data_plane.names("Cluster") == [f"{RELEASE}-pg"]
    assert len(data_plane.of_kind("Database")) == len(SERVICES) + 1  # and keycloak
    for doc in data_plane.docs:
        where = f"{doc['kind']}/{doc['metadata']['name']}"
        assert not hook(doc), where
        assert doc["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep", where
    # The release chart renders no database, role Secret or data key any more.
    assert umbrella.of_kind("Cluster") == umbrella.of_kind("Database") == []
    assert not [n for n in umbrella.names("Secret") if n.startswith(f"{RELEASE}-pg-")]
    assert not [n for n in umbrella.names("Secret") if n.endswith("-keys")]


def test_data_plane_names_meet_the_release_that_uses_them(
    data_plane: Rendered, umbrella: Rendered
) -> None:
    refs = {
        e["valueFrom"]["secretKeyRef"]["name"]
        for d in workloads(umbrella)
        for c in containers(d)
        for e in c.get("env", [])
        if "secretKeyRef" in e.get("valueFrom", {})
        and not e["valueFrom"]["secretKeyRef"].get("optional")
    }
    rendered_here = set(umbrella.names("Secret"))
    assert refs - rendered_here <= set(data_plane.names("Secret"))
    assert f"{RELEASE}-talent-keys" in refs - rendered_here


def test_credential_distribution_runs_after_install(umbrella: Rendered) -> None:
    job = umbrella.named("Job", f"{RELEASE}-identity-credentials")
    assert hook(job) == {"post-install"}
    (c,) = pod_spec(job)["containers"]
    assert c["args"] == [
        "python",
        "-m",
        "kepu_identity",
        "distribute",
        "--tenant-code",
        "410000",
        "--scope",
        "subtree",
        "--secret-name",
        "kepu-credential-sheet",
    ]
    assert env_of(c)["POD_NAMESPACE"]["fieldRef"]["fieldPath"] == "metadata.namespace"


def test_credential_job_may_write_only_the_sheet_secret(umbrella: Rendered) -> None:
    job = umbrella.named("Job", f"{RELEASE}-identity-credentials")
    account = pod_spec(job)["serviceAccountName"]
    binding = next(
        b
        for b in umbrella.of_kind("RoleBinding")
        if {"kind": "ServiceAccount", "name": account, "namespace": NAMESPACE} in b["subjects"]
    )
    role = umbrella.named("Role", binding["roleRef"]["name"])
    for rule in role["rules"]:
        assert rule["resources"] == ["secrets"]
        if set(rule["verbs"]) - {"create"}:
            assert rule["resourceNames"] == ["kepu-credential-sheet"]
    verbs = {v for rule in role["rules"] for v in rule["verbs"]}
    # Exactly what kepu_identity.sheet_store does: POST, then on 409 GET and PATCH.
    assert verbs == {"create", "get", "patch"}


def test_credential_job_can_be_pointed_at_another_tree(render: Callable[..., Rendered]) -> None:
    other = render({"identity": {"credentialDistribution": {"tenantCode": "411300"}}})
    (c,) = pod_spec(other.named("Job", f"{RELEASE}-identity-credentials"))["containers"]
    assert c["args"][c["args"].index("--tenant-code") + 1] == "411300"


# --- PostgreSQL, Kafka, Keycloak -------------------------------------------------------------


def test_one_database_per_service_with_the_extensions(data_plane: Rendered) -> None:
    cluster = data_plane.named("Cluster", f"{RELEASE}-pg")
    initdb = cluster["spec"]["bootstrap"]["initdb"]
    assert "CREATE EXTENSION IF NOT EXISTS ltree;" in initdb["postInitTemplateSQL"]
    assert "CREATE EXTENSION IF NOT EXISTS pg_trgm;" in initdb["postInitTemplateSQL"]
    assert (
        "ALTER FUNCTION ltree_risparent(ltree, ltree) LEAKPROOF;" in initdb["postInitTemplateSQL"]
    )
    assert any(
        sql.startswith("CREATE OR REPLACE FUNCTION kepu_grams(") and "LEAKPROOF" in sql
        for sql in initdb["postInitTemplateSQL"]
    )
    databases = {d["spec"]["name"]: d for d in data_plane.of_kind("Database")}
    for svc in SERVICES:
        assert f"CREATE DATABASE {svc} OWNER {svc}_owner;" in initdb["postInitApplicationSQL"]
        db = databases[svc]
        assert db["spec"]["owner"] == f"{svc}_owner"
        assert {e["name"] for e in db["spec"]["extensions"]} == {"ltree", "pg_trgm"}
        assert db["spec"]["databaseReclaimPolicy"] == "retain"


def test_the_app_role_cannot_bypass_row_level_security(data_plane: Rendered) -> None:
    roles = {
        r["name"]: r
        for r in data_plane.named("Cluster", f"{RELEASE}-pg")["spec"]["managed"]["roles"]
    }
    app = roles["kepu_app"]
    assert app["bypassrls"] is False
    assert app["superuser"] is False
    assert all(not roles[f"{svc}_owner"]["bypassrls"] for svc in SERVICES)


def test_topics_include_a_dead_letter_topic_for_each(umbrella: Rendered) -> None:
    topics = {t["spec"]["topicName"]: t for t in umbrella.of_kind("KafkaTopic")}
    for svc in SERVICES:
        assert f"{svc}.events" in topics
        assert f"{svc}.events.dlq" in topics
    for t in topics.values():
        assert t["metadata"]["labels"]["strimzi.io/cluster"] == f"{RELEASE}-kafka"
    dlq_retention = int(topics["talent.events.dlq"]["spec"]["config"]["retention.ms"])
    assert dlq_retention > int(topics["talent.events"]["spec"]["config"]["retention.ms"])


def test_kafka_runs_in_kraft_mode_with_only_an_authenticated_tls_listener(
    umbrella: Rendered,
) -> None:
    kafka = umbrella.named("Kafka", f"{RELEASE}-kafka")
    # Strimzi v1: KRaft with node pools is the only mode; the v1beta2 annotations are gone.
    assert kafka["apiVersion"] == "kafka.strimzi.io/v1"
    assert not set(kafka["metadata"].get("annotations", {})) & {
        "strimzi.io/kraft",
        "strimzi.io/node-pools",
    }
    (listener,) = kafka["spec"]["kafka"]["listeners"]
    assert (listener["port"], listener["tls"], listener["authentication"]["type"]) == (
        9093,
        True,
        "scram-sha-512",
    )
    assert kafka["spec"]["kafka"]["authorization"]["type"] == "simple"
    (pool,) = umbrella.of_kind("KafkaNodePool")
    assert pool["metadata"]["labels"]["strimzi.io/cluster"] == f"{RELEASE}-kafka"
    assert set(pool["spec"]["roles"]) == {"controller", "broker"}


def test_keycloak_uses_its_own_database_in_the_cluster(platform: Rendered) -> None:
    keycloak = platform.named("Keycloak", f"{RELEASE}-keycloak")
    db = keycloak["spec"]["db"]
    assert db["host"] == f"{RELEASE}-pg-rw"
    assert db["database"] == "keycloak"
    assert db["passwordSecret"]["name"] in platform.names("Secret")
    # Its ingress serves HTTPS only, with the TLS Secret of the sign-in host.
    assert keycloak["spec"]["ingress"]["tlsSecret"] == f"{RELEASE}-keycloak-tls"
    assert keycloak["spec"]["hostname"]["hostname"].startswith("https://")


# --- switching operator kinds off ------------------------------------------------------------


def test_an_external_database_needs_no_cloudnativepg(render: Callable[..., Rendered]) -> None:
    data = render(
        {"postgres": {"enabled": False}, "roleSecrets": {"external": {"kepu_app": "x"}}},
        chart="kepu-data",
    )
    assert data.of_kind("Cluster") == data.of_kind("Database") == []
    assert f"{RELEASE}-pg-app" in data.names("Secret")  # the roles' passwords, given
    assert f"{RELEASE}-talent-keys" in data.names("Secret")
    external = render(
        {"postgres": {"cloudnativepg": False}, "global": {"postgres": {"host": "pg.internal"}}}
    )
    (c,) = pod_spec(external.named("Deployment", f"{RELEASE}-talent-serve"))["containers"]
    assert "@pg.internal:5432/talent" in env_of(c)["TALENT_DATABASE_URL"]


@pytest.mark.parametrize(
    ("chart", "values", "gone"),
    [
        ("kepu-data", {"postgres": {"databaseCRs": False}}, ["Database"]),
        ("kepu", {"kafka": {"enabled": False}}, ["Kafka", "KafkaNodePool"]),
        ("kepu", {"kafka": {"topics": {"enabled": False}}}, ["KafkaTopic"]),
        ("kepu", {"kafka": {"users": {"enabled": False}}}, ["KafkaUser"]),
        ("kepu", {"keycloak": {"enabled": False}}, ["Keycloak"]),
        ("kepu", {"keycloak": {"realmImport": {"enabled": False}}}, ["KeycloakRealmImport"]),
        ("kepu", {"networkPolicy": {"enabled": False}}, ["NetworkPolicy"]),
        ("kepu", {"monitoring": {"prometheusRules": False}}, ["PrometheusRule"]),
    ],
)
def test_each_operator_kind_can_be_switched_off(
    render: Callable[..., Rendered], chart: str, values: dict, gone: list[str]
) -> None:
    default, rendered = render(chart=chart), render(values, chart=chart)
    for kind in gone:
        assert default.of_kind(kind), kind
        assert rendered.of_kind(kind) == [], kind
    assert len(rendered.of_kind("Deployment")) == len(default.of_kind("Deployment"))


def test_a_service_can_be_left_out(render: Callable[..., Rendered]) -> None:
    without = render({"assessment": {"enabled": False}})
    assert not [d for d in without.names("Deployment") if "assessment" in d]
    assert f"{RELEASE}-talent-serve" in without.names("Deployment")


# --- gateway ---------------------------------------------------------------------------------


def test_gateway_reaches_every_service_and_scales(umbrella: Rendered) -> None:
    gateway = umbrella.named("Deployment", f"{RELEASE}-gateway")
    (c,) = pod_spec(gateway)["containers"]
    env = env_of(c)
    assert env["GATEWAY_PORT"] == "8000"
    assert env["GATEWAY_HOST"] == "0.0.0.0"  # reachable through the Service
    # the per-pod rate-limit budget and the workers sharing it (the values say what multiplies it)
    assert env["GATEWAY_WORKERS"] == "2" and env["GATEWAY_RATE_LIMIT_PER_MINUTE"] == "1200"
    assert c["ports"][0]["containerPort"] == 8000
    services = set(umbrella.names("Service"))
    for svc in SERVICES:
        target = env[f"{svc.upper()}_GRPC_TARGET"]
        host, port = target.split(":")
        assert host in services
        assert port == "50051"
    hpa = umbrella.named("HorizontalPodAutoscaler", f"{RELEASE}-gateway")
    assert hpa["spec"]["scaleTargetRef"]["name"] == f"{RELEASE}-gateway"
    assert hpa["spec"]["minReplicas"] >= 2
    assert "replicas" not in gateway["spec"]  # the HPA owns the replica count
    ingress = umbrella.named("Ingress", f"{RELEASE}-gateway")
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend["name"] == f"{RELEASE}-gateway"
    assert ingress["spec"]["tls"]


def test_images_come_from_the_configured_registry(render: Callable[..., Rendered]) -> None:
    r = render({"global": {"image": {"registry": "harbor.hnkx.cn/kepu", "tag": "1.2.3"}}})
    images = {c["image"] for d in workloads(r) for c in containers(d)}
    assert images == {f"harbor.hnkx.cn/kepu/kepu-{c}:1.2.3" for c in COMPONENTS}
    assert all(re.fullmatch(r"[a-z0-9./-]+:[\w.-]+", i) for i in images)


def test_services_listen_on_the_pod_network_not_loopback(umbrella: Rendered) -> None:
    """A gRPC server bound to 127.0.0.1 would be unreachable through its Service."""
    for svc in SERVICES:
        (c,) = pod_spec(umbrella.named("Deployment", f"{RELEASE}-{svc}-serve"))["containers"]
        env = {e["name"]: e.get("value") for e in c["env"]}
        assert env["KEPU_BIND_HOST"] == "0.0.0.0"
        assert env[f"{svc.upper()}_GRPC_HOST"] == "0.0.0.0"


def test_personal_data_keys_come_from_kept_secrets(platform: Rendered) -> None:
    """Talent and projects encrypt phones/ID numbers; their key must never be the development default."""
    for svc in ("talent", "projects"):
        (c,) = pod_spec(platform.named("Deployment", f"{RELEASE}-{svc}-serve"))["containers"]
        env = {e["name"]: e for e in c["env"]}
        ref = env[f"{svc.upper()}_SECRET_KEY"]["valueFrom"]["secretKeyRef"]
        assert ref["name"] == f"{RELEASE}-{svc}-keys"
        key = platform.named("Secret", f"{RELEASE}-{svc}-keys")["stringData"]["secret-key"]
        assert len(base64.b64decode(key)) == 32
