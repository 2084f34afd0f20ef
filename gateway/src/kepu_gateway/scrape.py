"""``/metrics`` of every worker process of one gateway instance, whichever worker is scraped.

uvicorn's workers are separate processes, each with its own Prometheus registry; Prometheus
scrapes one port and so reaches one worker at random. Each worker therefore also serves its own
registry on a free loopback port and writes that port to ``<GATEWAY_RUN_DIR>/metrics/<pid>``;
the worker that answers ``/metrics`` reads its siblings' pages and returns them all in one
page, every sample labelled ``worker="<pid>"`` (sum them with ``sum without (worker)``). A
worker that died leaves its file behind: the file is removed when its process is gone. Without
``GATEWAY_RUN_DIR`` (tests, an app built in process) only the own registry is served.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

import httpx
from kepu_common import logs
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families

from .ratelimit import RUN_DIR_ENV  # the instance's directory, made by __main__.main

log = logs.get("kepu.gateway.scrape")
WORKER_LABEL = "worker"


def _dir() -> Path | None:
    raw = os.environ.get(RUN_DIR_ENV, "")
    return Path(raw) / "metrics" if raw else None


def announce() -> None:
    """Serve this worker's registry on a free loopback port and say which, for its siblings."""
    where = _dir()
    if where is None:
        return
    from prometheus_client import start_http_server

    server, _thread = start_http_server(0, addr="127.0.0.1")
    where.mkdir(parents=True, exist_ok=True)
    tmp = where / f".{os.getpid()}"
    tmp.write_text(str(server.server_port))
    tmp.replace(where / str(os.getpid()))
    log.info("worker %d: its own metrics on 127.0.0.1:%d", os.getpid(), server.server_port)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _siblings() -> list[tuple[int, int]]:
    """(pid, port) of the other live workers; files of dead ones are removed."""
    where = _dir()
    if where is None or not where.is_dir():
        return []
    found: list[tuple[int, int]] = []
    for entry in where.iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        pid = int(entry.name)
        if not _alive(pid):
            entry.unlink(missing_ok=True)
            continue
        try:
            found.append((pid, int(entry.read_text())))
        except (OSError, ValueError):
            continue  # being written
    return found


class _Merged:
    """A collector yielding the parsed pages of several workers as one set of families."""

    def __init__(self, pages: Iterable[tuple[int, str]]) -> None:
        self._pages = list(pages)

    def collect(self) -> Iterator[Metric]:
        families: dict[str, Metric] = {}
        for pid, text in self._pages:
            for family in text_string_to_metric_families(text):
                merged = families.get(family.name)
                if merged is None:
                    merged = Metric(family.name, family.documentation, family.type, family.unit)
                    families[family.name] = merged
                for s in family.samples:
                    merged.add_sample(
                        s.name, {**s.labels, WORKER_LABEL: str(pid)}, s.value, s.timestamp
                    )
        yield from families.values()


async def _page(client: httpx.AsyncClient, pid: int, port: int) -> tuple[int, str] | None:
    try:
        r = await client.get(f"http://127.0.0.1:{port}/metrics")
    except httpx.HTTPError:
        return None  # starting or just gone: the next scrape has it
    return (pid, r.text) if r.status_code == 200 else None


async def page() -> bytes:
    """The exposition of this worker and every live sibling (only this one's without a run dir)."""
    own = generate_latest(REGISTRY)
    if _dir() is None:
        return own
    siblings = _siblings()
    pages: list[tuple[int, str]] = [(os.getpid(), own.decode())]
    if siblings:
        async with httpx.AsyncClient(timeout=2.0, trust_env=False) as client:
            got = await asyncio.gather(*(_page(client, pid, port) for pid, port in siblings))
        pages += [p for p in got if p is not None]
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Merged(pages))
    return generate_latest(registry)
