"""What the production charts promise a provincial IT department (issue 13, items 3 and 4).

NetworkPolicies are checked by evaluating them the way Kubernetes does (a connection needs
an egress rule of its source and an ingress rule of its destination, each pod with no policy
of that direction being open), Kafka's KafkaUsers against the consumers in the code, and the
backup, restore, scaling and schema parts by rendering with the values an operator would set.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import helm_python as helm
import jsonschema
import psycopg.conninfo
import pytest
from chart_crd_schemas import SCHEMAS
from conftest import COMPONENTS, NAMESPACE, RELEASE, SERVICES, Rendered

# --- NetworkPolicies ---------------------------------------------------------------------------

Pod = tuple[str, dict[str, str]]  # (namespace, labels)
NAMESPACE_LABELS = {
    NAMESPACE: {"kubernetes.io/metadata.name": NAMESPACE},
    "ingress-nginx": {"kubernetes.io/metadata.name": "ingress-nginx"},
    "kube-system": {"kubernetes.io/metadata.name": "kube-system"},
    "observability": {"kubernetes.io/metadata.name": "observability"},
    "monitoring": {"kubernetes.io/metadata.name": "monitoring"},
}


def kepu_pod(component: str, role: str = "serve") -> Pod:
    """Labels kepu-lib gives the pods of one component and role."""
    return (
        NAMESPACE,
        {
            "app.kubernetes.io/name": component,
            "app.kubernetes.io/instance": RELEASE,
            "app.kubernetes.io/component": role,
            "app.kubernetes.io/part-of": "kepu",
        },
    )


POSTGRES: Pod = (NAMESPACE, {"cnpg.io/cluster": f"{RELEASE}-pg", "cnpg.io/instanceRole": "primary"})
KAFKA: Pod = (NAMESPACE, {"strimzi.io/cluster": f"{RELEASE}-kafka", "strimzi.io/kind": "Kafka"})
KEYCLOAK: Pod = (
    NAMESPACE,
    {"app": "keycloak", "app.kubernetes.io/instance": f"{RELEASE}-keycloak"},
)
INGRESS_CONTROLLER: Pod = ("ingress-nginx", {"app.kubernetes.io/name": "ingress-nginx"})
DNS: Pod = ("kube-system", {"k8s-app": "kube-dns"})
PROMETHEUS: Pod = ("monitoring", {"app.kubernetes.io/name": "prometheus"})
STRANGER: Pod = (NAMESPACE, {"app": "debug-shell"})


def _selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    assert not selector.get("matchExpressions"), "the evaluator reads matchLabels only"
    return selector.get("matchLabels", {}).items() <= labels.items()


def _peer_matches(peer: dict[str, Any], policy_ns: str, pod: Pod) -> bool:
    ns, labels = pod
    if "ipBlock" in peer:
        return False  # pods are not addressed by CIDR here
    if "namespaceSelector" in peer:
        if not _selects(peer["namespaceSelector"], NAMESPACE_LABELS.get(ns, {})):
            return False
    elif ns != policy_ns:
        return False
    return _selects(peer.get("podSelector", {}), labels)


def _port_matches(rule: dict[str, Any], port: int) -> bool:
    ports = rule.get("ports")
    return not ports or any(p.get("port") == port for p in ports)


def allowed(policies: list[dict[str, Any]], src: Pod, dst: Pod, port: int) -> bool:
    def side(pod: Pod, direction: str, peer: Pod) -> bool:
        applying = [
            p
            for p in policies
            if pod[0] == NAMESPACE
            and direction in p["spec"]["policyTypes"]
            and _selects(p["spec"]["podSelector"], pod[1])
        ]
        if not applying:
            return True  # no policy isolates this pod in this direction
        key, peers_key = ("egress", "to") if direction == "Egress" else ("ingress", "from")
        return any(
            _port_matches(rule, port)
            and (
                not rule.get(peers_key)
                or any(_peer_matches(x, NAMESPACE, peer) for x in rule[peers_key])
            )
            for p in applying
            for rule in p["spec"].get(key, [])
        )

    return side(src, "Egress", dst) and side(dst, "Ingress", src)


def strimzi_listener_policies(kafka: dict[str, Any]) -> list[dict[str, Any]]:
    """The NetworkPolicy Strimzi's cluster operator writes for the brokers: each listener's
    port, open to its networkPolicyPeers (to everyone when it names none)."""
    name = kafka["metadata"]["name"]
    return [
        {
            "spec": {
                "podSelector": {
                    "matchLabels": {"strimzi.io/cluster": name, "strimzi.io/kind": "Kafka"}
                },
                "policyTypes": ["Ingress"],
                "ingress": [
                    {
                        "from": listener.get("networkPolicyPeers", []),
                        "ports": [{"port": listener["port"]}],
                    }
                    for listener in kafka["spec"]["kafka"]["listeners"]
                ],
            }
        }
    ]


@pytest.fixture(scope="module")
def policies(umbrella: Rendered) -> list[dict[str, Any]]:
    kafka = umbrella.named("Kafka", f"{RELEASE}-kafka")
    return umbrella.of_kind("NetworkPolicy") + strimzi_listener_policies(kafka)


def test_the_namespace_denies_everything_by_default(policies: list[dict[str, Any]]) -> None:
    (deny,) = [p for p in policies if p["spec"]["podSelector"] == {}]
    assert set(deny["spec"]["policyTypes"]) == {"Ingress", "Egress"}
    assert "ingress" not in deny["spec"] and "egress" not in deny["spec"]
    # A pod nobody planned for can neither be reached nor reach anything.
    assert not allowed(policies, STRANGER, kepu_pod("talent"), 50051)
    assert not allowed(policies, STRANGER, POSTGRES, 5432)
    assert not allowed(policies, STRANGER, KAFKA, 9093)  # the listener admits Kepu's pods only
    assert not allowed(policies, kepu_pod("talent"), STRANGER, 8080)


def test_only_the_ingress_controller_reaches_the_gateway_and_keycloak(
    policies: list[dict[str, Any]],
) -> None:
    assert allowed(policies, INGRESS_CONTROLLER, kepu_pod("gateway"), 8000)
    assert allowed(policies, INGRESS_CONTROLLER, KEYCLOAK, 8080)
    assert not allowed(policies, INGRESS_CONTROLLER, kepu_pod("talent"), 50051)
    assert not allowed(policies, INGRESS_CONTROLLER, kepu_pod("identity"), 8081)
    assert not allowed(policies, INGRESS_CONTROLLER, POSTGRES, 5432)


@pytest.mark.parametrize("svc", SERVICES)
def test_services_accept_the_gateway_only(policies: list[dict[str, Any]], svc: str) -> None:
    assert allowed(policies, kepu_pod("gateway"), kepu_pod(svc), 50051)
    for other in SERVICES:
        if other != svc:  # services talk through Kafka, never to each other
            assert not allowed(policies, kepu_pod(other, "worker"), kepu_pod(svc), 50051), other
    # Every process of the service reaches its data and its identity provider, nothing else.
    for role in ("serve", "relay", "worker", "migrate"):
        pod = kepu_pod(svc, role)
        assert allowed(policies, pod, POSTGRES, 5432), role
        assert allowed(policies, pod, KAFKA, 9093), role
        assert allowed(policies, pod, KEYCLOAK, 8080), role
        assert allowed(policies, pod, DNS, 53), role
        assert not allowed(policies, pod, KAFKA, 9092), role  # no plain listener
    assert allowed(policies, PROMETHEUS, kepu_pod(svc, "worker"), 9464)
    assert not allowed(policies, kepu_pod("gateway"), POSTGRES, 5432)


def test_the_identity_install_jobs_reach_identity(policies: list[dict[str, Any]]) -> None:
    for job in ("bootstrap-admin", "credentials"):
        assert allowed(policies, kepu_pod("identity", job), kepu_pod("identity"), 50051), job
    assert allowed(policies, kepu_pod("gateway"), kepu_pod("identity"), 8081)


def test_postgres_accepts_its_clients_and_its_replicas(policies: list[dict[str, Any]]) -> None:
    assert allowed(policies, KEYCLOAK, POSTGRES, 5432)
    replica = (NAMESPACE, {**POSTGRES[1], "cnpg.io/instanceRole": "replica"})
    assert allowed(policies, replica, POSTGRES, 5432)
    operator = ("cnpg-system", {"app.kubernetes.io/name": "cloudnative-pg"})
    NAMESPACE_LABELS["cnpg-system"] = {"kubernetes.io/metadata.name": "cnpg-system"}
    assert allowed(policies, operator, POSTGRES, 8000)


# --- Kafka: TLS, SCRAM and one KafkaUser per service ------------------------------------------


def consumed_topics_in_the_code() -> dict[str, set[str]]:
    """The topics each service's workers subscribe to (their __main__ wiring)."""
    from kepu_assessment import consumers as assessment
    from kepu_common import directory
    from kepu_identity import consumers as identity
    from kepu_projects import consumers as projects
    from kepu_reporting import consumers as reporting
    from kepu_talent import consumers as talent

    tenants = {
        directory.IDENTITY_TOPIC
    }  # directory.tenants_consumer, in every service but identity
    return {
        "identity": {*identity.AUDIT_TOPICS, *identity.WEBHOOK_TOPICS},
        "talent": {*talent.TOPICS, *talent.QUOTA_TOPICS},
        "reporting": {*tenants, *reporting.TALENT_TOPICS, *reporting.PROJECT_TOPICS},
        "projects": {*tenants, *projects.TALENT_TOPICS},
        "assessment": {*tenants, *assessment.METRIC_TOPICS},
    }


def consumer_groups_in_the_code() -> dict[str, set[str]]:
    from kepu_assessment import consumers as assessment
    from kepu_identity import consumers as identity
    from kepu_projects import consumers as projects
    from kepu_reporting import consumers as reporting
    from kepu_talent import consumers as talent

    return {
        "identity": {identity.AUDIT_CONSUMER, identity.WEBHOOKS_CONSUMER},
        "talent": {talent.CONSUMER, talent.QUOTAS_CONSUMER},
        "reporting": {
            reporting.TENANTS_CONSUMER,
            reporting.TALENTS_CONSUMER,
            reporting.RESOURCES_CONSUMER,
        },
        "projects": {projects.TENANTS_CONSUMER, projects.TALENTS_CONSUMER},
        "assessment": {assessment.TENANTS_CONSUMER, assessment.METRICS_CONSUMER},
    }


def acl_grants(user: dict[str, Any]) -> dict[tuple[str, str, str], set[str]]:
    out: dict[tuple[str, str, str], set[str]] = {}
    for acl in user["spec"]["authorization"]["acls"]:
        r = acl["resource"]
        assert acl.get("type", "allow") == "allow"
        out.setdefault((r["type"], r["name"], r["patternType"]), set()).update(acl["operations"])
    return out


def may(grants: dict[tuple[str, str, str], set[str]], kind: str, name: str, op: str) -> bool:
    return any(
        op in ops and k == kind and (n == name if pattern == "literal" else name.startswith(n))
        for (k, n, pattern), ops in grants.items()
    )


@pytest.mark.parametrize("svc", SERVICES)
def test_each_service_reads_only_what_it_consumes_and_writes_only_its_own_topic(
    umbrella: Rendered, svc: str
) -> None:
    user = umbrella.named("KafkaUser", f"{RELEASE}-{svc}")
    assert user["spec"]["authentication"]["type"] == "scram-sha-512"
    assert user["metadata"]["labels"]["strimzi.io/cluster"] == f"{RELEASE}-kafka"
    grants = acl_grants(user)
    consumed = consumed_topics_in_the_code()[svc]
    every_topic = {f"{s}.events{x}" for s in SERVICES for x in ("", ".dlq")}
    readable = {t for t in every_topic if may(grants, "topic", t, "Read")}
    writable = {t for t in every_topic if may(grants, "topic", t, "Write")}
    assert readable == consumed
    assert writable == {f"{svc}.events", f"{svc}.events.dlq"} | {f"{t}.dlq" for t in consumed}
    for group in consumer_groups_in_the_code()[svc]:
        assert may(grants, "group", group, "Read"), group
    other = next(s for s in SERVICES if s != svc)
    assert not may(grants, "group", f"{other}.tenants", "Read")
    assert may(grants, "topic", "kepu.broker-epoch", "Read")
    assert not may(grants, "cluster", "kafka-cluster", "Alter")


def test_every_consuming_code_path_is_in_the_chart(umbrella: Rendered) -> None:
    """The chart's kafka.users.consumes equals what the workers subscribe to."""
    assert set(umbrella.names("KafkaUser")) == {f"{RELEASE}-{s}" for s in SERVICES}
    for svc, topics in consumed_topics_in_the_code().items():
        grants = acl_grants(umbrella.named("KafkaUser", f"{RELEASE}-{svc}"))
        assert {n for (k, n, _), ops in grants.items() if k == "topic" and "Read" in ops} == {
            *topics,
            "kepu.broker-epoch",
        }


@pytest.mark.parametrize("svc", SERVICES)
def test_service_pods_connect_as_their_kafka_user_with_files(umbrella: Rendered, svc: str) -> None:
    for role in ("serve", "relay", "worker"):
        spec = umbrella.named("Deployment", f"{RELEASE}-{svc}-{role}")["spec"]["template"]["spec"]
        (c,) = spec["containers"]
        env = {e["name"]: e.get("value") for e in c["env"]}
        assert env["KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
        assert env["KAFKA_SASL_MECHANISM"] == "SCRAM-SHA-512"
        assert env["KAFKA_SASL_USERNAME"] == f"{RELEASE}-{svc}"  # = the KafkaUser
        assert not [e for e in c["env"] if "KAFKA" in e["name"] and "valueFrom" in e]
        volumes = {v["name"]: v for v in spec["volumes"]}
        mounts = {m["mountPath"]: m["name"] for m in c["volumeMounts"]}
        password_dir, password_file = env["KAFKA_SASL_PASSWORD_FILE"].rsplit("/", 1)
        user_secret = volumes[mounts[password_dir]]["secret"]
        assert user_secret["secretName"] == f"{RELEASE}-{svc}"  # written by the User Operator
        assert user_secret["items"] == [{"key": "password", "path": password_file}]
        ca_dir = env["KAFKA_SSL_CAFILE"].rsplit("/", 1)[0]
        assert volumes[mounts[ca_dir]]["secret"]["secretName"] == f"{RELEASE}-kafka-cluster-ca-cert"


# --- data plane: URL-safe credentials, backups, restore ---------------------------------------


def test_a_password_with_url_characters_reaches_libpq_intact(
    render: Callable[..., Rendered], umbrella: Rendered
) -> None:
    password = "p@ss:w/rd 50%+?#"
    data = render({"roleSecrets": {"external": {"kepu_app": password}}}, chart="kepu-data")
    secret = data.named("Secret", f"{RELEASE}-pg-app")["stringData"]
    (c,) = umbrella.named("Deployment", f"{RELEASE}-talent-serve")["spec"]["template"]["spec"][
        "containers"
    ]
    env = {e["name"]: e for e in c["env"]}
    key = env["KEPU_PG_APP_PASSWORD"]["valueFrom"]["secretKeyRef"]["key"]
    url = (
        env["TALENT_DATABASE_URL"]["value"]
        .replace("$(KEPU_PG_APP_USER)", secret["username"])
        .replace("$(KEPU_PG_APP_PASSWORD)", secret[key])  # what the kubelet does
    )
    parsed = psycopg.conninfo.conninfo_to_dict(url)  # libpq's own parser
    assert parsed["password"] == password
    assert (parsed["user"], parsed["host"], parsed["dbname"]) == (
        "kepu_app",
        f"{RELEASE}-pg-rw",
        "talent",
    )


def test_generated_passwords_and_keys_are_stable_across_renders_when_kept(
    data_plane: Rendered,
) -> None:
    # Helm's lookup returns nothing offline, so here each render is a first install; what
    # keeps them on upgrade is the lookup in kepudata.existing (see docs/operations.md).
    text = (Path(__file__).parents[2] / "charts/kepu-data/templates/_helpers.tpl").read_text()
    assert 'lookup "v1" "Secret"' in text
    for s in data_plane.of_kind("Secret"):
        assert s["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"


def test_backups_go_to_the_object_store_every_day(render: Callable[..., Rendered]) -> None:
    values = {
        "backup": {
            "enabled": True,
            "destinationPath": "s3://kepu-backups/henan",
            "endpointURL": "https://oss.example.cn",
            "credentialsSecret": "kepu-backup-s3",
        }
    }
    data = render(values, chart="kepu-data")
    (store,) = data.of_kind("ObjectStore")
    (scheduled,) = data.of_kind("ScheduledBackup")
    cluster = data.named("Cluster", f"{RELEASE}-pg")
    (plugin,) = cluster["spec"]["plugins"]
    assert plugin["isWALArchiver"] is True
    assert plugin["parameters"]["barmanObjectName"] == store["metadata"]["name"]
    assert store["spec"]["configuration"]["destinationPath"] == "s3://kepu-backups/henan"
    assert scheduled["spec"]["method"] == "plugin"
    assert scheduled["spec"]["pluginConfiguration"]["name"] == plugin["name"]
    assert scheduled["spec"]["cluster"]["name"] == cluster["metadata"]["name"]
    for doc in (store, scheduled, cluster):
        jsonschema.validate(doc, SCHEMAS[(doc["apiVersion"], doc["kind"])])


def test_a_backup_without_a_destination_is_refused(render: Callable[..., Rendered]) -> None:
    with pytest.raises(Exception, match="destinationPath"):
        render({"backup": {"enabled": True}}, chart="kepu-data")


def test_the_restore_example_bootstraps_from_the_backup(
    render: Callable[..., Rendered], chart_root: Path
) -> None:
    import yaml

    example = yaml.safe_load((chart_root / "kepu-data/examples/restore-values.yaml").read_text())
    data = render(example, chart="kepu-data")
    cluster = data.named("Cluster", f"{RELEASE}-pg")
    spec = cluster["spec"]
    assert "initdb" not in spec["bootstrap"]
    source = spec["bootstrap"]["recovery"]["source"]
    (origin,) = [c for c in spec["externalClusters"] if c["name"] == source]
    assert origin["plugin"]["parameters"]["serverName"] == "kepu-pg"  # the old cluster's
    # The restored cluster archives under a new name, leaving the old backups untouched.
    assert spec["plugins"][0]["parameters"]["serverName"] != "kepu-pg"
    jsonschema.validate(cluster, SCHEMAS[(cluster["apiVersion"], cluster["kind"])])


# --- scaling, images, schema, alerts ----------------------------------------------------------


def test_every_serve_deployment_scales_and_spreads(umbrella: Rendered) -> None:
    hpas = {
        h["spec"]["scaleTargetRef"]["name"]: h for h in umbrella.of_kind("HorizontalPodAutoscaler")
    }
    serve = [f"{RELEASE}-{svc}-serve" for svc in SERVICES] + [f"{RELEASE}-gateway"]
    assert set(hpas) == set(serve)
    for name in serve:
        deployment = umbrella.named("Deployment", name)
        assert "replicas" not in deployment["spec"], name  # the HPA owns it
        assert hpas[name]["spec"]["minReplicas"] >= 2, name
    for deployment in umbrella.of_kind("Deployment"):
        spread = deployment["spec"]["template"]["spec"]["topologySpreadConstraints"]
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert {c["topologyKey"] for c in spread} == {
            "kubernetes.io/hostname",
            "topology.kubernetes.io/zone",
        }
        assert all(c["labelSelector"]["matchLabels"].items() <= labels.items() for c in spread)


def test_images_are_pinned_by_digest_when_given(render: Callable[..., Rendered]) -> None:
    digest = "sha256:" + "ab" * 32
    r = render({"global": {"image": {"tag": "1.2.3", "digests": {"talent": digest}}}})
    images = {
        c["image"]
        for d in r.of_kind("Deployment") + r.of_kind("Job")
        for c in d["spec"]["template"]["spec"]["containers"]
    }
    assert f"registry.kepu.example.cn/kepu/kepu-talent@{digest}" in images
    assert "registry.kepu.example.cn/kepu/kepu-identity:1.2.3" in images


@pytest.mark.parametrize(
    ("values", "where"),
    [
        ({"global": {"image": {"digests": {"talent": "latest"}}}}, "/global/image/digests/talent"),
        ({"global": {"kafka": {"secure": "yes"}}}, "/global/kafka/secure"),
        ({"monitoring": {"errorRatio": 5}}, "/monitoring/errorRatio"),
        ({"global": {"idp": "ldap"}}, "/global/idp"),
        ({"networkPolicy": {"enabled": "no"}}, "/networkPolicy/enabled"),
        (
            {"keycloak": {"realmImport": {"portalRedirectUris": ["https://kepu.example.cn/*"]}}},
            "/keycloak/realmImport/portalRedirectUris/0",
        ),
    ],
)
def test_the_values_schema_rejects_a_bad_value(
    chart_root: Path, values: dict[str, Any], where: str
) -> None:
    with helm.Chart.load(chart_root / "kepu") as loaded, pytest.raises(Exception) as caught:
        loaded.render(values, name=RELEASE, namespace=NAMESPACE, is_install=True)
    assert where in str(caught.value)


def test_the_data_plane_schema_rejects_a_bad_retention(chart_root: Path) -> None:
    with helm.Chart.load(chart_root / "kepu-data") as loaded, pytest.raises(Exception) as caught:
        loaded.render(
            {"backup": {"retentionPolicy": "30 days"}},
            name=RELEASE,
            namespace=NAMESPACE,
            is_install=True,
        )
    assert "/backup/retentionPolicy" in str(caught.value)


def test_alerts_cover_outbox_lag_dead_letters_errors_and_logins(umbrella: Rendered) -> None:
    (rule,) = umbrella.of_kind("PrometheusRule")
    alerts = {r["alert"]: r for g in rule["spec"]["groups"] for r in g["rules"]}
    expected = {
        "KepuOutboxStalled": "kepu_outbox_oldest_age_seconds",
        "KepuConsumerLag": "kepu_consumer_lag",
        "KepuDeadLetters": "kepu_dlq_size",
        "KepuGatewayErrors": "http_server_request_duration_seconds_count",
        "KepuLoginFailures": "kepu_login_failures_total",
    }
    assert set(alerts) == set(expected)
    for name, metric in expected.items():
        assert metric in alerts[name]["expr"], name
        assert alerts[name]["annotations"]["summary"], name


def test_notes_tell_the_first_sign_in(chart_root: Path) -> None:
    with helm.Chart.load(chart_root / "kepu") as loaded:
        notes = loaded.render({}, name=RELEASE, namespace=NAMESPACE, is_install=True)[
            "kepu/templates/NOTES.txt"
        ]
    assert f"{RELEASE}-identity-bootstrap-admin" in notes
    assert "expand/contract" in notes


def test_components_render_alone_with_kafka_security(render: Callable[..., Rendered]) -> None:
    for component in COMPONENTS:
        if component == "gateway":
            continue
        alone = render(chart=component)
        (c,) = alone.named("Deployment", f"{RELEASE}-{component}-worker")["spec"]["template"][
            "spec"
        ]["containers"]
        assert {"name": "KAFKA_SECURITY_PROTOCOL", "value": "SASL_SSL"} in c["env"]
