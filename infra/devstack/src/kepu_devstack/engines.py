"""The production engines (Keycloak, Apache Kafka) as local files, fetched through Maven.

``infra/engines/pom.xml`` names the versions; Maven resolves them from the registry its own
settings point at into its local repository (``~/.m2``), and this module copies them into a
cache directory shared by every stack and test run on the machine:

- ``keycloak-<version>/``: the unpacked ``keycloak-quarkus-dist`` zip;
- ``kafka-<version>/libs/``: ``kafka_2.13`` and its runtime class path.

A missing Java or Maven stops with a message saying what to install, never a traceback.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import zipfile
from functools import cache
from pathlib import Path

POM = Path(__file__).resolve().parents[3] / "engines" / "pom.xml"
MIN_JAVA = 17


class EngineUnavailable(RuntimeError):
    """A production engine cannot be prepared on this machine (the message says why)."""


def cache_dir() -> Path:
    d = Path(os.environ.get("KEPU_ENGINES_DIR") or Path.home() / ".cache" / "kepu-engines")
    d.mkdir(parents=True, exist_ok=True)
    return d


@cache
def versions() -> dict[str, str]:
    """``{"keycloak": "26.4.7", "kafka": "4.1.1"}`` as the pom declares them."""
    text = POM.read_text(encoding="utf-8")
    found = dict(re.findall(r"<(keycloak|kafka)\.version>([^<]+)</", text))
    if set(found) != {"keycloak", "kafka"}:
        raise EngineUnavailable(f"{POM} does not declare keycloak.version and kafka.version")
    return found


def java() -> str:
    """The ``java`` executable (``JAVA_HOME`` first), checked to be Java 17 or newer."""
    home = os.environ.get("JAVA_HOME")
    exe = str(Path(home) / "bin" / "java") if home else shutil.which("java")
    if not exe or not Path(exe).exists():
        raise EngineUnavailable(
            "需要 Java 17 或更高版本来运行 Keycloak 与 Apache Kafka（未找到 java）。"
            " Install a JDK, e.g. `apt-get install openjdk-17-jdk-headless maven`, or set JAVA_HOME."
        )
    out = subprocess.run([exe, "-version"], capture_output=True, text=True, check=False)
    m = re.search(r'version "(\d+)', out.stderr + out.stdout)
    if not m or int(m.group(1)) < MIN_JAVA:
        raise EngineUnavailable(
            f"Keycloak 与 Kafka 需要 Java {MIN_JAVA}+，当前 {exe} 报告：{out.stderr.strip()[:200]}"
        )
    return exe


def _mvn(*args: str) -> None:
    mvn = shutil.which("mvn")
    if not mvn:
        raise EngineUnavailable(
            "需要 Maven 来获取 Keycloak 与 Apache Kafka（未找到 mvn）。"
            " Install it, e.g. `apt-get install maven`."
        )
    cmd = [mvn, "-B", "-q", "-f", str(POM), *args]
    r = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if r.returncode != 0:
        raise EngineUnavailable(
            "Maven 未能获取引擎（" + " ".join(cmd) + "）：\n" + (r.stdout + r.stderr)[-3000:]
        )


def keycloak_home() -> Path:
    """The unpacked Keycloak server distribution (fetched and unpacked once)."""
    version = versions()["keycloak"]
    home = cache_dir() / f"keycloak-{version}"
    if (home / "bin" / "kc.sh").exists():
        return home
    staging = _copy_dependencies(
        f".keycloak-{version}.zip.d", "-DincludeGroupIds=org.keycloak", "-DexcludeTransitive=true"
    )
    archive = staging / f"keycloak-quarkus-dist-{version}.zip"
    unpack = cache_dir() / f".keycloak-{version}.unpack"
    shutil.rmtree(unpack, ignore_errors=True)
    with zipfile.ZipFile(archive) as z:
        z.extractall(unpack)
    inner = unpack / f"keycloak-{version}"
    for script in (inner / "bin").glob("*.sh"):
        script.chmod(0o755)
    _publish(inner, home)
    shutil.rmtree(unpack, ignore_errors=True)
    shutil.rmtree(staging, ignore_errors=True)
    return home


def kafka_libs() -> Path:
    """A directory with Apache Kafka's runtime class path (``java -cp '<dir>/*' kafka.Kafka``)."""
    version = versions()["kafka"]
    libs = cache_dir() / f"kafka-{version}" / "libs"
    if any(libs.glob("kafka_2.13-*.jar")):
        return libs
    staging = _copy_dependencies(
        f".kafka-{version}.libs", "-DincludeScope=runtime", "-DexcludeGroupIds=org.keycloak"
    )
    libs.parent.mkdir(parents=True, exist_ok=True)
    _publish(staging, libs)
    return libs


def _copy_dependencies(staging_name: str, *selection: str) -> Path:
    """Copy the pom's dependencies ``selection`` picks into a fresh staging folder of the cache."""
    staging = cache_dir() / staging_name
    shutil.rmtree(staging, ignore_errors=True)
    _mvn("dependency:copy-dependencies", *selection, f"-DoutputDirectory={staging}")
    return staging


def _publish(staged: Path, final: Path) -> None:
    """Move ``staged`` to ``final`` atomically; a concurrent run may have got there first."""
    try:
        staged.rename(final)
    except OSError:
        if not final.exists():
            raise
        shutil.rmtree(staged, ignore_errors=True)


def prepare_all() -> None:
    """Fetch both engines now (``python -m kepu_devstack engines``, run by ``make``)."""
    java()
    keycloak_home()
    kafka_libs()
