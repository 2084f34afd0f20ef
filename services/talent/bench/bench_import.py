"""Benchmark (not a test): import a generated 10,000-row 汇总表 and print the time.

    uv run python services/talent/bench/bench_import.py                      # directly, embedded PostgreSQL
    uv run python services/talent/bench/bench_import.py http://127.0.0.1:8000 \\
        --username <county admin> --password <password> [--tenant-id <county id>]

Through the gateway the time covers upload, gRPC, validation, encryption, duplicate
checks and the committed insert (POST /api/v1/talents/import with wait=true).
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
import uuid
from pathlib import Path

import openpyxl

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

TITLE = "河南省科协“百千万科普工程”科普人才信息汇总表"
HEADERS = (
    "序号",
    "服务类别",
    "姓名",
    "性别",
    "工作单位",
    "职务",
    "联系电话",
    "从事行业",
    "科普专长",
    "拟开展科普工作",
)
CATEGORIES = (
    "青少年科普",
    "农村科普",
    "社区科普",
    "园区科普",
    "公务员科普",
    "服务双创",
    "服务精准扶贫",
    "科普创作",
    "其他",
)
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂"


def generate(rows: int, seed: int) -> bytes:
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("汇总表")
    ws.append([TITLE])
    ws.append(["南阳 市  卧龙区 县（区）科协"])
    ws.append(list(HEADERS))
    for i in range(rows):
        name = SURNAMES[i % 20] + GIVEN[(i // 20) % 20] + GIVEN[(i // 400) % 20]
        phone = f"13{seed % 10}{i:08d}"
        cats = "、".join({CATEGORIES[i % 9], CATEGORIES[(i * 7) % 9]})
        ws.append(
            [
                i + 1,
                cats,
                name,
                "男" if i % 2 else "女",
                f"第{i % 300}中学",
                "教师",
                phone,
                "教育",
                "青少年科技创新辅导",
                "开展校园科普讲座与科技实践活动",
            ]
        )
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def via_gateway(url: str, content: bytes, args: argparse.Namespace) -> None:
    import httpx

    token = args.token
    if not token:
        r = httpx.post(
            f"{url}/auth/realms/kepu/protocol/openid-connect/token",
            data={
                "grant_type": "password",
                "client_id": "kepu-cli",
                "username": args.username,
                "password": args.password,
            },
            timeout=30,
        )
        r.raise_for_status()
        token = r.json()["access_token"]
    started = time.perf_counter()
    r = httpx.post(
        f"{url}/api/v1/talents/import",
        headers={"Authorization": f"Bearer {token}"},
        files={"file": ("bench.xlsx", content, "application/octet-stream")},
        data={"tenant_id": args.tenant_id, "mode": "all_or_nothing"},
        timeout=300,
    )
    elapsed = time.perf_counter() - started
    body = r.json()
    print(
        f"gateway import: HTTP {r.status_code}, status={body.get('status')}, "
        f"inserted={body.get('inserted')}, errors={body.get('error_count')}, {elapsed:.2f} s"
    )


def direct(content: bytes) -> None:
    from kepu_common.consumer import handle_once
    from kepu_common.db import Database
    from kepu_common.migrations import upgrade
    from kepu_devstack.postgres import EmbeddedPostgres, provision_database
    from kepu_talent import consumers
    from kepu_talent.__main__ import MIGRATIONS
    from kepu_talent.app import build
    from kepu_talent.settings import TalentSettings
    from kepu_talent.xlsx import read_summary
    from talent_support import TREE, WOLONG, tenant_envelope, who

    with tempfile.TemporaryDirectory() as tmp:
        pg = EmbeddedPostgres(Path(tmp) / "pg")
        pg.start()
        try:
            owner_url, app_url = provision_database(
                pg.superuser_url(), f"bench_{uuid.uuid4().hex[:6]}"
            )
            upgrade(MIGRATIONS, owner_url)
            db = Database(app_url)
            for path, kind, name in TREE:
                handle_once(
                    db,
                    consumers.CONSUMER,
                    tenant_envelope(path, kind, name),
                    consumers.on_identity_event,
                )
            app = build(TalentSettings(TALENT_OBJECT_STORE_PATH=tmp), db=db)
            started = time.perf_counter()
            read_summary(content, max_rows=20000, max_bytes=10**9)
            parsed = time.perf_counter() - started
            started = time.perf_counter()
            job = app.imports.start_import(who(WOLONG), content, "bench.xlsx")
            elapsed = time.perf_counter() - started
            print(f"parse only: {parsed:.2f} s")
            print(
                f"direct import: status={job['status']}, inserted={job['inserted']}, "
                f"errors={job['error_count']}, {elapsed:.2f} s"
            )
            db.dispose()
        finally:
            pg.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("url", nargs="?", help="gateway base URL; omitted = through the service")
    parser.add_argument("--rows", type=int, default=10000)
    parser.add_argument("--username", default="")
    parser.add_argument("--password", default="")
    parser.add_argument("--token", default="")
    parser.add_argument("--tenant-id", default="", help="county to import into (default: caller's)")
    args = parser.parse_args()
    started = time.perf_counter()
    content = generate(args.rows, seed=int(time.time()))
    print(
        f"generated {args.rows} rows ({len(content) / 1024:.0f} KiB) in "
        f"{time.perf_counter() - started:.2f} s"
    )
    if args.url:
        via_gateway(args.url.rstrip("/"), content, args)
    else:
        direct(content)


if __name__ == "__main__":
    main()
