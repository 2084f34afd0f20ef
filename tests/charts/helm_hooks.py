"""The order in which Helm runs a release's hooks, as Helm 4 computes it.

helm pkg/action/hooks.go: the hooks of one event, pre-sorted by kind (InstallOrder of
pkg/release/v1/util/kind_sorter.go, unknown kinds such as operator CRs last, by kind),
then stable-sorted by weight and, for equal weights, by name. Each hook is created and
waited for (a Job until it completes) before the next one starts.
"""

from __future__ import annotations

from typing import Any

from conftest import Rendered

INSTALL_ORDER = [
    "PriorityClass",
    "Namespace",
    "NetworkPolicy",
    "ResourceQuota",
    "LimitRange",
    "PodSecurityPolicy",
    "PodDisruptionBudget",
    "ServiceAccount",
    "Secret",
    "SecretList",
    "ConfigMap",
    "StorageClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleList",
    "ClusterRoleBinding",
    "ClusterRoleBindingList",
    "Role",
    "RoleList",
    "RoleBinding",
    "RoleBindingList",
    "Service",
    "DaemonSet",
    "Pod",
    "ReplicationController",
    "ReplicaSet",
    "Deployment",
    "HorizontalPodAutoscaler",
    "StatefulSet",
    "Job",
    "CronJob",
    "IngressClass",
    "Ingress",
    "APIService",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
]


def hook_events(doc: dict[str, Any]) -> set[str]:
    value = doc["metadata"].get("annotations", {}).get("helm.sh/hook", "")
    return {h.strip() for h in value.split(",") if h.strip()}


def hook_weight(doc: dict[str, Any]) -> int:
    return int(doc["metadata"].get("annotations", {}).get("helm.sh/hook-weight", "0"))


def _kind_rank(doc: dict[str, Any]) -> tuple[int, str]:
    kind = doc["kind"]
    if kind in INSTALL_ORDER:
        return (INSTALL_ORDER.index(kind), "")
    return (len(INSTALL_ORDER), kind)


def hooks_in_order(rendered: Rendered, event: str) -> list[dict[str, Any]]:
    """The hooks Helm runs for ``event`` (e.g. ``pre-install``), in the order it runs them."""
    hooks = sorted((d for d in rendered.docs if event in hook_events(d)), key=_kind_rank)
    return sorted(hooks, key=lambda d: (hook_weight(d), d["metadata"]["name"]))


def plain_resources(rendered: Rendered) -> list[dict[str, Any]]:
    """The release's ordinary objects (no hook), in the order Helm creates them."""
    return sorted((d for d in rendered.docs if not hook_events(d)), key=_kind_rank)
