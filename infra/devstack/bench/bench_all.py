"""``make bench``: every benchmark, then one table of figures next to their targets (and the
ratio to the monolith for the read path), written as JSON too.

Runs ``bench_gateway_read.py`` (whole stack and monolith), ``bench_scale.py`` (national data at
``KEPU_BENCH_FACTOR``), each ``services/*/bench/bench_*.py`` and ``bench_event_latency.py``.
A script that fails is reported in the table and the others still run: benchmarks print,
they never fail for being slow.

    uv run python infra/devstack/bench/bench_all.py [--out .var/bench/results.json] [--only NAME]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
ROOT = HERE.parents[2]
MEDIAN = re.compile(r"median ([0-9.]+) s.*\(target ([^)]*)\)")


def run(script: Path, *extra: str, timeout: float = 3600) -> tuple[int, str, float]:
    t = time.perf_counter()
    try:
        done = subprocess.run(
            [sys.executable, str(script), *extra],
            capture_output=True, text=True, timeout=timeout, cwd=ROOT,
        )  # fmt: skip
        out, code = done.stdout + done.stderr[-2000:] * (done.returncode != 0), done.returncode
    except subprocess.TimeoutExpired:
        out, code = "timed out", -1
    return code, out, time.perf_counter() - t


def read_path_rows(figures: dict[str, Any]) -> list[dict[str, str]]:
    g, m, r = figures["gateway"], figures.get("monolith"), figures.get("ratio", {})

    def vs(key: str) -> str:
        return f"{r[key]:.2f}x" if key in r else ""

    rows = [
        {
            "what": "read path GET /api/v1/tenants/me at 200 req/s: p50 / p99",
            "measured": f"{g['fixed_200']['p50_ms']:.1f} / {g['fixed_200']['p99_ms']:.1f} ms",
            "target": "p99 <= 10 ms, <= 1.3x monolith",
            "monolith": vs("p99_200"),
        },
        {
            "what": "read path, maximum rate",
            "measured": f"{g['max']['rps']:.0f} req/s (p99 {g['max']['p99_ms']:.0f} ms)",
            "target": ">= 1,500 req/s, <= 1.3x monolith",
            "monolith": vs("throughput"),
        },
        {
            "what": "read path, CPU per request (gateway + identity + PostgreSQL)",
            "measured": f"{g['max']['cpu_ms_per_request']:.2f} ms",
            "target": "<= 1.3x monolith",
            "monolith": vs("cpu_per_request"),
        },
    ]
    if m:
        rows.append(
            {
                "what": "monolith of the same read (one FastAPI app): 200 req/s p99, max rate",
                "measured": f"{m['fixed_200']['p99_ms']:.1f} ms, {m['max']['rps']:.0f} req/s"
                f" ({m['max']['cpu_ms_per_request']:.2f} ms CPU per request)",
                "target": "(baseline)",
                "monolith": "1.00x",
            }
        )
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(ROOT / ".var" / "bench" / "results.json"))
    ap.add_argument("--only", help="run only the scripts whose name contains this")
    args = ap.parse_args()
    started = datetime.now(UTC)
    load_before = os.getloadavg()[0]
    scripts = [HERE / "bench_gateway_read.py", HERE / "bench_scale.py"]
    scripts += sorted(ROOT.glob("services/*/bench/bench_*.py"))
    scripts += [HERE / "bench_event_latency.py"]
    if args.only:
        scripts = [s for s in scripts if args.only in s.name]
    rows: list[dict[str, str]] = []
    raw: dict[str, Any] = {}
    for script in scripts:
        name = script.stem
        print(f"== {script.relative_to(ROOT)}", flush=True)
        with tempfile.NamedTemporaryFile(suffix=".json") as tmp:
            wants_json = name in ("bench_gateway_read", "bench_scale")
            code, out, seconds = run(script, *(["--json", tmp.name] if wants_json else []))
            print(out.rstrip(), flush=True)
            figures = json.loads(Path(tmp.name).read_text() or "null") if wants_json else None
        raw[name] = {"exit": code, "seconds": round(seconds, 1), "output": out[-4000:]}
        if code != 0 or (wants_json and not figures):
            rows.append({"what": name, "measured": f"failed (exit {code})", "target": "",
                         "monolith": ""})  # fmt: skip
            continue
        if name == "bench_gateway_read":
            raw[name]["figures"] = figures
            rows += read_path_rows(figures)
        elif name == "bench_scale":
            raw[name]["figures"] = figures
            gen = figures["generated"]
            for label, f in figures["cases"].items():
                rows.append(
                    {
                        "what": f"{label} ({gen['talents']:,} talents, {gen['tenants']:,} tenants)",
                        "measured": f"p50 {f['p50_ms']:.1f} ms, p99 {f['p99_ms']:.1f} ms",
                        "target": f["target"],
                        "monolith": "",
                    }
                )
        else:
            found = [m for m in (MEDIAN.search(line) for line in out.splitlines()) if m]
            for m in found:
                rows.append({"what": name, "measured": f"median {m.group(1)} s",
                             "target": m.group(2), "monolith": ""})  # fmt: skip
            if not found:
                last = [line for line in out.splitlines() if line.strip()][-1:] or [""]
                rows.append({"what": name, "measured": last[0][:120], "target": "see script",
                             "monolith": ""})  # fmt: skip
    load_after = os.getloadavg()[0]
    cores = os.cpu_count() or 1
    loaded = max(load_before, load_after) > cores
    note = (
        f"measured under load (load average {load_before:.1f} -> {load_after:.1f} on {cores} cores)"
        if loaded
        else f"load average {load_before:.1f} -> {load_after:.1f} on {cores} cores"
    )
    print(f"\n## Benchmarks {started:%Y-%m-%d %H:%M} UTC, {note}\n")
    print("| what | measured | target | vs monolith |")
    print("| --- | --- | --- | --- |")
    for row in rows:
        print(f"| {row['what']} | {row['measured']} | {row['target']} | {row['monolith']} |")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "date": started.isoformat(),
                "cores": cores,
                "load_average": [load_before, load_after],
                "under_load": loaded,
                "rows": rows,
                "scripts": raw,
            },
            indent=2,
            ensure_ascii=False,
        )  # fmt: skip
    )
    print(f"\nJSON: {out}")


if __name__ == "__main__":
    main()
