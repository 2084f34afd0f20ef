"""The image recipe in infra/docker, checked without a container engine.

No Docker engine is available to the tests, so the image itself is not built here. What is
checked: the Dockerfile keeps its promises (the locked, dev-free install, a non-root user),
and its install step — `uv sync --package kepu-<svc> --frozen --no-dev --no-editable` — run
into a scratch environment, gives a `python -m kepu_<svc>` that imports without the source
tree, with its migrations and templates.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
from conftest import COMPONENTS

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "infra" / "docker" / "Dockerfile"


def workspace_packages() -> set[str]:
    names = set()
    for pyproject in [*ROOT.glob("services/*/pyproject.toml"), ROOT / "gateway/pyproject.toml"]:
        names.add(tomllib.loads(pyproject.read_text())["project"]["name"])
    return names


def test_dockerfile_installs_only_the_locked_runtime_packages() -> None:
    text = DOCKERFILE.read_text()
    assert re.search(
        r'uv sync --package "kepu-\$\{SERVICE\}" --frozen --no-dev --no-editable', text
    )
    assert "grpc_tools.protoc" in text  # proto/gen is generated inside the build


def test_dockerfile_runs_as_the_user_the_charts_expect() -> None:
    text = DOCKERFILE.read_text()
    user = re.findall(r"^USER (\S+)", text, flags=re.M)
    assert user[-1] == "10001:10001"  # charts: runAsUser 10001, runAsNonRoot
    runtime = text.split("AS runtime", 1)[1]
    assert "COPY . ." not in runtime  # no source tree in the final image


@pytest.mark.parametrize("component", COMPONENTS)
def test_image_install_step_gives_a_runnable_package(component: str, tmp_path: Path) -> None:
    if f"kepu-{component}" not in workspace_packages():
        pytest.skip(f"kepu-{component} is not in the workspace yet")
    uv = shutil.which("uv")
    if uv is None:
        pytest.skip("uv is not on PATH")
    env = {**os.environ, "UV_PROJECT_ENVIRONMENT": str(tmp_path / "venv")}
    env.pop("VIRTUAL_ENV", None)
    subprocess.run(
        [uv, "sync", "--package", f"kepu-{component}", "--frozen", "--no-dev", "--no-editable"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )
    probe = (
        "import importlib, pathlib, sys; "
        f"m = importlib.import_module('kepu_{component}'); "
        "p = pathlib.Path(m.__file__).resolve(); "
        "assert 'site-packages' in p.parts, p; print(p.parent)"
    )
    out = subprocess.run(
        [str(tmp_path / "venv" / "bin" / "python"), "-c", probe],
        cwd=tmp_path,  # not the repository: nothing may come from the source tree
        env={"PATH": os.environ.get("PATH", "")},
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    package_dir = Path(out.stdout.strip())
    source_dir = ROOT / ("gateway" if component == "gateway" else f"services/{component}")
    if (source_dir / f"src/kepu_{component}/migrations").is_dir():
        assert (package_dir / "migrations" / "env.py").is_file()


def test_protoc_runs_with_the_grpcio_tools_of_the_lock() -> None:
    """Image and `make proto` take grpcio-tools from uv.lock, never an unpinned --with."""
    makefile = (ROOT / "Makefile").read_text()
    for text in (DOCKERFILE.read_text(), makefile):
        assert "--with 'grpcio-tools" not in text
    assert "run --frozen --only-group dev python -m grpc_tools.protoc" in makefile
    uv = shutil.which("uv")
    if uv is None:
        pytest.skip("uv is not on PATH")
    # The Dockerfile's requirement step, as it runs in the build stage.
    exported = subprocess.run(
        [uv, "export", "--frozen", "--only-group", "dev", "--no-emit-project", "--no-header"]
        + ["--no-annotate", "--no-hashes"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    pins = dict(
        line.split(";")[0].strip().split("==")
        for line in exported.splitlines()
        if re.match(r"^(grpcio|grpcio-tools|protobuf|setuptools)==", line)
    )
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    locked = {p["name"]: p["version"] for p in lock["package"]}
    assert pins["grpcio-tools"] == locked["grpcio-tools"]
    assert set(pins) == {"grpcio", "grpcio-tools", "protobuf", "setuptools"}
    assert all(pins[name] == locked[name] for name in pins)
