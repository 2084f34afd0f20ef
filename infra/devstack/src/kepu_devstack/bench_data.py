"""Benchmark data at national scale (``make bench-data``): a 中国科协 tree of ~45,000 tenants
(31 provinces, 12 cities each, 10 counties per city, 11 townships per county), 10^6 talents,
5x10^5 工作简报 (monthly briefs), 10^5 projects and 10^6 activities, COPYed into the services'
own schemas: talent (tenants, talents), reporting (tenants, reports, activities), projects
(tenants, projects) and assessment (tenants).

Personal data is written as the services write it: talents' phone, e-mail, IM account and ID
number sealed with the talent service's keys (``kepu_talent.personal.sealed_columns``: AES-GCM bound to
the record and field, masks, keyed fingerprints for the province-wide duplicate check), project
contact phones with the projects service's ring. The tree lives in the services' tenant
directories only (no accounts in identity): benchmarks act as an admin of its root.

``KEPU_BENCH_FACTOR`` (default 1) scales every count (a level's width by its fourth root), so a
test runs the same code at 0.0005 in seconds. The COPY runs as the database superuser (row-level
security does not let the application role COPY).

    KEPU_BENCH_FACTOR=0.1 uv run python -m kepu_devstack.bench_data   # fills .var's stack
"""

from __future__ import annotations

import json
import os
import random
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

from .bench import tenant_tree

SHAPE = (31, 12, 10, 11)
KINDS = ("province", "city", "county", "township")
ROOT = {
    "root_code": "100000",
    "root_name": "中国科协",
    "first_level_code": lambda i: f"{10 + i}0000",
}
TALENTS, BRIEFS, PROJECTS, ACTIVITIES = 1_000_000, 500_000, 100_000, 1_000_000
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
)
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国志文海燕鹏辉丹晨"
SPECIALTIES = ("天文科普", "农业技术推广", "应急安全", "青少年科技教育", "医疗健康", "人工智能",
               "生态环保", "气象防灾", "航空航天", "食品安全", "心理健康", "机器人")  # fmt: skip
BRIEF_FIELDS = ("training_sessions", "trainees", "activities", "participants", "resources")


@dataclass
class Counts:
    tenants: int = 0
    talents: int = 0
    briefs: int = 0
    projects: int = 0
    activities: int = 0
    seconds: dict[str, float] = field(default_factory=dict)


def factor_from_env() -> float:
    return float(os.environ.get("KEPU_BENCH_FACTOR", "1"))


def shape(factor: float) -> tuple[int, ...]:
    return tuple(max(1, round(n * factor**0.25)) for n in SHAPE)


SERVICES = ("talent", "reporting", "projects", "assessment")


def stack_databases(superuser_url: str) -> dict[str, str]:
    """The superuser's URL of each service's database on a stack's PostgreSQL (``kepu_<svc>``)."""
    base = superuser_url.rsplit("/", 1)[0]
    return {svc: f"{base}/kepu_{svc}" for svc in SERVICES}


def generate(
    databases: Mapping[str, str], env: Mapping[str, str], factor: float = 1.0, *, seed: int = 16
) -> tuple[list[dict[str, Any]], Counts]:
    """Fill the services' databases (``databases``: service -> a superuser's URL of its database;
    a service left out is skipped) with the tree and the records at ``factor``; ``env`` carries
    the services' keys (the stack's environment). Returns the tree (root first) and the counts."""
    rnd = random.Random(seed)
    tree = tenant_tree(shape(factor), KINDS, **ROOT)  # type: ignore[arg-type]
    counts = Counts(tenants=len(tree))
    owners = [t for t in tree if t["kind"] in ("county", "township", "city")]
    t0 = time.perf_counter()
    for svc, url in databases.items():
        with _connect(url) as conn:
            _copy_tenants(conn, svc, tree)
    counts.seconds["tenants"] = time.perf_counter() - t0
    if "talent" in databases:
        t0 = time.perf_counter()
        with _connect(databases["talent"]) as conn:
            sealer = _talent_sealer(env)
            counts.talents = _copy_talents(conn, sealer, owners, round(TALENTS * factor), rnd)
        counts.seconds["talents"] = time.perf_counter() - t0
    if "reporting" in databases:
        t0 = time.perf_counter()
        with _connect(databases["reporting"]) as conn:
            counts.briefs = _copy_briefs(conn, tree[1:], round(BRIEFS * factor), rnd)
            counts.activities = _copy_activities(conn, owners, round(ACTIVITIES * factor), rnd)
        counts.seconds["briefs+activities"] = time.perf_counter() - t0
    if "projects" in databases:
        t0 = time.perf_counter()
        with _connect(databases["projects"]) as conn:
            ring = _projects_ring(env)
            counts.projects = _copy_projects(conn, ring, owners, round(PROJECTS * factor), rnd)
        counts.seconds["projects"] = time.perf_counter() - t0
    for url in databases.values():
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("ANALYZE")
    return tree, counts


@contextmanager
def _connect(url: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(url) as conn:  # one transaction per service: all or nothing
        yield conn


def _copy(conn: psycopg.Connection[Any], table: str, columns: list[str], rows: Any) -> int:
    n = 0
    with conn.cursor() as cur:
        with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
                n += 1
    return n


def _copy_tenants(conn: psycopg.Connection[Any], svc: str, tree: list[dict[str, Any]]) -> None:
    path_column = "path" if svc == "talent" else "tenant_path"
    _copy(
        conn, "tenants", ["id", "code", "name", "kind", "parent_id", path_column, "status"],
        ((t["id"], t["code"], t["name"], t["kind"], t["parent"], t["path"], "active") for t in tree),
    )  # fmt: skip


@contextmanager
def _environ(env: Mapping[str, str]) -> Iterator[None]:
    """``os.environ`` with ``env`` added, for settings classes that read only it."""
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _talent_sealer(env: Mapping[str, str]) -> Any:
    """The talent service's own sealing of a record (its keys from ``env``)."""
    from kepu_talent.crypto import KeyRing
    from kepu_talent.personal import sealed_columns
    from kepu_talent.settings import TalentSettings

    with _environ({"TALENT_DATABASE_URL": "postgresql://unused", **env}):
        settings = TalentSettings()
    keys = KeyRing.from_config(settings.resolved_data_keys, settings.resolved_hmac_key)
    return lambda talent_id, f: sealed_columns(keys, talent_id, f)


def _projects_ring(env: Mapping[str, str]) -> Any:
    from kepu_projects.crypto import KeyRing

    return KeyRing.from_config(
        env.get("PROJECTS_DATA_KEYS", ""), env.get("PROJECTS_SECRET_KEY", "")
    )


def _name(rnd: random.Random) -> str:
    return rnd.choice(SURNAMES) + "".join(rnd.choice(GIVEN) for _ in range(rnd.randint(1, 2)))


TALENT_COLUMNS = [
    "id", "tenant_id", "tenant_path", "province", "status", "name", "gender", "birth_month",
    "education", "industry", "specialty", "employer", "position", "categories",
    "phone_enc", "phone_masked", "email_enc", "email_masked", "im_enc", "im_masked",
    "id_number_enc", "id_number_masked", "key_version", "id_number_hash", "name_phone_hash",
    "certificate_no", "certified_at", "source", "created_by", "created_at", "updated_at",
]  # fmt: skip


def _id_number(code: str, i: int) -> str:
    """A distinct 居民身份证号 for every ``i`` (< 13.4 million), whatever the region prefix: the
    birth date walks with ``i // 1000`` and the sequence number is ``i % 1000``."""
    j = i // 1000
    birth = date(1960 + (j // 336) % 40, 1 + (j // 28) % 12, 1 + j % 28)
    return f"{code[:6]:0<6}{birth:%Y%m%d}{i % 1000:03d}X"


def _copy_talents(
    conn: Any, seal: Any, owners: list[dict[str, Any]], n: int, rnd: random.Random
) -> int:
    from kepu_talent import fields

    now = datetime.now(UTC)

    def rows() -> Iterator[tuple[Any, ...]]:
        for i in range(n):
            owner = owners[i % len(owners)]
            tid = str(uuid.uuid4())
            birth = date(1960 + i % 40, 1 + i % 12, 1 + i % 28)
            f = fields.TalentFields(
                name=_name(rnd), gender=fields.GENDERS[i % 2], phone=f"13{i:09d}",
                employer=f"{owner['name']}第{i % 50 + 1}中学", categories=[fields.SERVICE_CATEGORIES[i % 9]],
                birth_month=birth.strftime("%Y-%m"), education=fields.EDUCATIONS[i % len(fields.EDUCATIONS)],
                specialty=SPECIALTIES[i % len(SPECIALTIES)], position="教师",
                email=f"t{i}@example.cn" if i % 3 == 0 else "",
                id_number=_id_number(owner["code"], i) if i % 2 == 0 else "",
            )  # fmt: skip
            cols = seal(tid, f)
            certified = i % 4 == 0
            created = now - timedelta(minutes=i)
            yield (
                tid, owner["id"], owner["path"], owner["path"].split(".")[0],
                "certified" if certified else ("recommended", "city_reviewed", "draft")[i % 3],
                f.name, f.gender, f.birth_month, f.education, "教育", f.specialty, f.employer,
                f.position, f.categories, cols["phone_enc"], cols["phone_masked"],
                cols["email_enc"], cols["email_masked"], cols["im_enc"], cols["im_masked"],
                cols["id_number_enc"], cols["id_number_masked"], cols["key_version"],
                cols["id_number_hash"], cols["name_phone_hash"],
                f"KP-B{i:08d}" if certified else None, created if certified else None,
                "import", "bench", created, created,
            )  # fmt: skip

    return _copy(conn, "talents", TALENT_COLUMNS, rows())


def _months(count: int) -> list[str]:
    """The ``count`` months up to last month, newest first (``2026-10``)."""
    today = date.today().replace(day=1)
    out = []
    for _ in range(count):
        today = (today - timedelta(days=1)).replace(day=1)
        out.append(today.strftime("%Y-%m"))
    return out


def _copy_briefs(conn: Any, tenants: list[dict[str, Any]], n: int, rnd: random.Random) -> int:
    """工作简报: the newest months first, every tenant one per month, until ``n``."""
    months = _months(max(1, -(-n // max(1, len(tenants)))))

    def rows() -> Iterator[tuple[Any, ...]]:
        written = 0
        for period in months:
            year, month = map(int, period.split("-"))
            due = (date(year, month, 28) + timedelta(days=8)).replace(day=5)
            for t in tenants:
                if written >= n:
                    return
                written += 1
                values = {k: rnd.randint(0, 300) for k in BRIEF_FIELDS}
                at = datetime(due.year, due.month, rnd.randint(1, 8), 3, tzinfo=UTC)
                yield (
                    str(uuid.uuid4()), t["id"], t["path"], t["kind"], "monthly_brief", period,
                    "submitted", json.dumps(values), at, at.date() <= due, "bench",
                )  # fmt: skip

    return _copy(
        conn, "reports",
        ["id", "tenant_id", "tenant_path", "tenant_kind", "type_code", "period", "status",
         '"values"', "submitted_at", "on_time", "updated_by"],
        rows(),
    )  # fmt: skip


def _copy_activities(conn: Any, owners: list[dict[str, Any]], n: int, rnd: random.Random) -> int:
    from kepu_reporting.domain import ACTIVITY_FORMS, ACTIVITY_TARGETS

    start = date.today() - timedelta(days=365)

    def rows() -> Iterator[tuple[Any, ...]]:
        for i in range(n):
            t = owners[i % len(owners)]
            day = start + timedelta(days=i % 365)
            yield (
                str(uuid.uuid4()), t["id"], t["path"], f"{SPECIALTIES[i % len(SPECIALTIES)]}进社区",
                day, f"{t['name']}文化广场", ACTIVITY_FORMS[i % len(ACTIVITY_FORMS)],
                ACTIVITY_TARGETS[i % len(ACTIVITY_TARGETS)], rnd.randint(10, 500), "bench",
            )  # fmt: skip

    return _copy(
        conn, "activities",
        ["id", "tenant_id", "tenant_path", "title", "day", "place", "form", "target",
         "participants", "created_by"],
        rows(),
    )  # fmt: skip


def _copy_projects(
    conn: Any, ring: Any, owners: list[dict[str, Any]], n: int, rnd: random.Random
) -> int:
    from kepu_common.masking import mask_phone
    from kepu_projects.crypto import phone_context

    categories = ("activity", "creation", "facility", "other")
    statuses = ("draft", "submitted", "approved", "in_progress", "completed")

    def rows() -> Iterator[tuple[Any, ...]]:
        for i in range(n):
            t = owners[i % len(owners)]
            pid = str(uuid.uuid4())
            phone = f"15{i:09d}"
            yield (
                pid, t["id"], t["path"], t["name"], f"{t['name']}{SPECIALTIES[i % len(SPECIALTIES)]}科普项目{i}",
                t["name"], t["name"], _name(rnd), ring.seal(phone, phone_context(pid)), mask_phone(phone),
                categories[i % 4], "2026-01", "2026-12", "面向社区居民开展科普讲座与展览。",
                "覆盖居民 1000 人次。", 10000 + i % 90000, statuses[i % len(statuses)], "bench",
            )  # fmt: skip

    return _copy(
        conn, "projects",
        ["id", "tenant_id", "tenant_path", "tenant_name", "name", "applicant_unit",
         "completing_unit", "contact_person", "phone_sealed", "phone_masked", "category",
         "start_month", "end_month", "content", "expected_performance", "budget", "status",
         "created_by"],
        rows(),
    )  # fmt: skip


def main() -> None:
    """Fill the development stack's databases (``KEPU_VAR_DIR``, default ``.var``)."""
    from .stack import Stack

    factor = factor_from_env()
    var_dir = Path(os.environ.get("KEPU_VAR_DIR", ".var")).resolve()
    stack = Stack(var_dir=var_dir)
    print(f"启动中（数据目录 {var_dir}），规模系数 {factor} ……", flush=True)
    stack.start()
    try:
        assert stack.pg is not None
        tree, counts = generate(stack_databases(stack.pg.superuser_url()), stack.env, factor)
        print(
            f"{counts.tenants} tenants, {counts.talents} talents, {counts.briefs} briefs,"
            f" {counts.projects} projects, {counts.activities} activities"
            f" ({', '.join(f'{k} {v:.1f} s' for k, v in counts.seconds.items())});"
            f" root {tree[0]['path']} ({tree[0]['name']})"
        )
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
