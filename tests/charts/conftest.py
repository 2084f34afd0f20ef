"""Render the Helm charts in `charts/` offline with Helm's own engine (helm-python-sdk).

`kepu-data` (the data plane) and `kepu` (the release) are separate charts installed into one
namespace; `platform` is both.

The charts are copied to a temporary folder and their file:// dependencies resolved there
(`helm dependency update`), so a test run never writes into the source tree.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import helm_python as helm
import pytest
import yaml

CHARTS = Path(__file__).resolve().parents[2] / "charts"
COMPONENTS = ("identity", "talent", "reporting", "projects", "assessment", "gateway")
SERVICES = ("identity", "talent", "reporting", "projects", "assessment")
RELEASE = "kepu"
NAMESPACE = "kepu-prod"


@dataclass
class Rendered:
    """Every object of one `helm template`, with the template file each came from."""

    docs: list[dict[str, Any]] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [d for d in self.docs if d["kind"] == kind]

    def named(self, kind: str, name: str) -> dict[str, Any]:
        matches = [d for d in self.of_kind(kind) if d["metadata"]["name"] == name]
        assert matches, f"no {kind} named {name}; have {self.names(kind)}"
        return matches[0]

    def names(self, kind: str) -> list[str]:
        return sorted(d["metadata"]["name"] for d in self.of_kind(kind))


def _load(manifests: dict[str, str]) -> Rendered:
    out = Rendered()
    for source, text in sorted(manifests.items()):
        if not source.endswith((".yaml", ".yml")):
            continue  # NOTES.txt and the like
        for doc in yaml.safe_load_all(text):
            if doc:
                out.docs.append(doc)
                out.sources.append(source)
    return out


@pytest.fixture(scope="session")
def chart_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("charts") / "charts"
    shutil.copytree(CHARTS, root, ignore=shutil.ignore_patterns("charts", "Chart.lock", "*.tgz"))
    # Subcharts first: each packs kepu-lib, then the umbrella packs them all.
    for name in (*COMPONENTS, "kepu"):
        helm.dependency_update(root / name, skip_refresh=True)
    return root


@pytest.fixture(scope="session")
def render(chart_root: Path) -> Callable[..., Rendered]:
    """render(values=None, chart="kepu") -> Rendered, as a first install would see it."""

    def _render(values: dict[str, Any] | None = None, chart: str = "kepu") -> Rendered:
        with helm.Chart.load(chart_root / chart) as loaded:
            manifests = loaded.render(
                values or {}, name=RELEASE, namespace=NAMESPACE, is_install=True
            )
        return _load(manifests)

    return _render


@pytest.fixture(scope="session")
def umbrella(render: Callable[..., Rendered]) -> Rendered:
    """The umbrella chart with its default (production) values."""
    return render()


@pytest.fixture(scope="session")
def data_plane(render: Callable[..., Rendered]) -> Rendered:
    """charts/kepu-data with its default values (installed before the umbrella)."""
    return render(chart="kepu-data")


def together(*parts: Rendered) -> Rendered:
    """What a namespace holds once several charts are installed."""
    out = Rendered()
    for part in parts:
        out.docs += part.docs
        out.sources += part.sources
    return out


@pytest.fixture(scope="session")
def platform(umbrella: Rendered, data_plane: Rendered) -> Rendered:
    """kepu-data and kepu, as installed side by side in one namespace."""
    return together(data_plane, umbrella)
