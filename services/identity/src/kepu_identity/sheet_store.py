"""Where the install Job keeps the credential sheet: a Kubernetes Secret, created or patched.

``store_sheet`` holds the decision and nothing else: create the Secret; when it exists
(409), read it and patch it, unless it already holds this batch. Two stores carry it out:
``KubernetesSecretStore`` (the in-cluster API, with the Job's service-account token; the
Role allows ``create`` and, on the sheet's name only, ``get`` and ``patch``) and
``DirectorySecretStore`` (one folder per Secret: what the chart's replay test reads, since
no Kubernetes API server runs there).
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any, Literal, Protocol

import httpx

# The batch a stored sheet belongs to: a rerun of the same batch leaves the Secret alone.
BATCH_ANNOTATION = "kepu.cloud/credential-batch"
SERVICE_ACCOUNT = Path("/var/run/secrets/kubernetes.io/serviceaccount")

Outcome = Literal["created", "patched", "unchanged"]


class SecretExists(Exception):
    """The Secret is already there (HTTP 409 on create)."""


class SecretStore(Protocol):
    def create(self, name: str, files: dict[str, bytes], annotations: dict[str, str]) -> None:
        """Create the Secret; raise ``SecretExists`` when one of that name exists."""

    def annotations(self, name: str) -> dict[str, str]:
        """The annotations of the existing Secret."""

    def patch(self, name: str, files: dict[str, bytes], annotations: dict[str, str]) -> None:
        """Replace these keys and annotations of the existing Secret (others stay)."""


def store_sheet(store: SecretStore, name: str, files: dict[str, bytes], batch_id: str) -> Outcome:
    """Create the Secret ``name`` with ``files``, or patch it when it holds another batch."""
    annotations = {BATCH_ANNOTATION: batch_id}
    try:
        store.create(name, files, annotations)
        return "created"
    except SecretExists:
        pass
    if store.annotations(name).get(BATCH_ANNOTATION) == batch_id:
        return "unchanged"
    store.patch(name, files, annotations)
    return "patched"


def _encoded(files: dict[str, bytes]) -> dict[str, str]:
    return {key: base64.b64encode(value).decode() for key, value in files.items()}


class KubernetesSecretStore:
    """Secrets of one namespace through the API server the pod's environment names."""

    def __init__(self, client: httpx.Client, namespace: str) -> None:
        self.client = client
        self.namespace = namespace

    @classmethod
    def in_cluster(cls, namespace: str | None = None) -> KubernetesSecretStore:
        """The API server from ``KUBERNETES_SERVICE_HOST``/``_PORT``, as every pod sees them."""
        host = os.environ["KUBERNETES_SERVICE_HOST"]
        port = os.environ.get("KUBERNETES_SERVICE_PORT", "443")
        if ":" in host:  # an IPv6 address
            host = f"[{host}]"
        token = (SERVICE_ACCOUNT / "token").read_text().strip()
        ns = namespace or (SERVICE_ACCOUNT / "namespace").read_text().strip()
        client = httpx.Client(
            base_url=f"https://{host}:{port}",
            headers={"Authorization": f"Bearer {token}"},
            verify=str(SERVICE_ACCOUNT / "ca.crt"),
            timeout=30,
        )
        return cls(client, ns)

    def _path(self, name: str | None = None) -> str:
        base = f"/api/v1/namespaces/{self.namespace}/secrets"
        return f"{base}/{name}" if name else base

    def create(self, name: str, files: dict[str, bytes], annotations: dict[str, str]) -> None:
        body = {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "Opaque",
            "metadata": {"name": name, "annotations": annotations},
            "data": _encoded(files),
        }
        r = self.client.post(self._path(), json=body)
        if r.status_code == 409:
            raise SecretExists(name)
        r.raise_for_status()

    def annotations(self, name: str) -> dict[str, str]:
        r = self.client.get(self._path(name))
        r.raise_for_status()
        meta: dict[str, Any] = r.json().get("metadata") or {}
        return dict(meta.get("annotations") or {})

    def patch(self, name: str, files: dict[str, bytes], annotations: dict[str, str]) -> None:
        body = {"metadata": {"annotations": annotations}, "data": _encoded(files)}
        r = self.client.patch(
            self._path(name),
            content=json.dumps(body),
            headers={"Content-Type": "application/merge-patch+json"},
        )
        r.raise_for_status()


class DirectorySecretStore:
    """``<root>/<secret name>/<key>`` files and ``.annotations.json``: a Secret on disk."""

    ANNOTATIONS = ".annotations.json"

    def __init__(self, root: Path) -> None:
        self.root = root

    def create(self, name: str, files: dict[str, bytes], annotations: dict[str, str]) -> None:
        folder = self.root / name
        try:
            folder.mkdir(parents=True)
        except FileExistsError:
            raise SecretExists(name) from None
        self._write(folder, files, annotations)

    def annotations(self, name: str) -> dict[str, str]:
        path = self.root / name / self.ANNOTATIONS
        if not path.exists():  # a create that was cut off before its last write
            return {}
        data: dict[str, str] = json.loads(path.read_text())
        return data

    def patch(self, name: str, files: dict[str, bytes], annotations: dict[str, str]) -> None:
        merged = {**self.annotations(name), **annotations}
        self._write(self.root / name, files, merged)

    def _write(self, folder: Path, files: dict[str, bytes], annotations: dict[str, str]) -> None:
        for key, value in files.items():
            (folder / key).write_bytes(value)
        (folder / self.ANNOTATIONS).write_text(json.dumps(annotations, sort_keys=True))
