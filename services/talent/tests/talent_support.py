"""Test data of the talent tests: the Henan sample tree, principals, records."""

from __future__ import annotations

import base64
import itertools
import os
import uuid
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import kepu_talent
from kepu.events.v1 import envelope_pb2
from kepu_common.db import Database, Scope
from kepu_common.outbox import build_envelope
from kepu_common.tenancy import Principal
from kepu_identity.crypto import Sealer
from kepu_identity.partners import Partners
from kepu_talent.app import TalentApp
from sqlalchemy import text

MIGRATIONS = Path(kepu_talent.__file__).parent / "migrations"

# (path, kind, name)
TREE = [
    ("410000", "province", "河南省科协"),
    ("410000.411300", "city", "南阳市科协"),
    ("410000.411300.411303", "county", "卧龙区科协"),
    ("410000.411300.411302", "county", "宛城区科协"),
    ("410000.411300.411303.411303001", "township", "七里园乡科协"),
    ("410000.411300.411300901", "society", "南阳市农学会"),
    ("410000.410200", "city", "开封市科协"),
    ("410000.410200.410202", "county", "龙亭区科协"),
    ("410000.410900001", "society", "河南省科普作家协会"),
]
TENANT_IDS = {path: str(uuid.uuid5(uuid.NAMESPACE_OID, path)) for path, _, _ in TREE}
KINDS = {path: kind for path, kind, _ in TREE}

PROVINCE = "410000"
NANYANG = "410000.411300"
WOLONG = "410000.411300.411303"
WANCHENG = "410000.411300.411302"
QILIYUAN = "410000.411300.411303.411303001"
NANYANG_SOCIETY = "410000.411300.411300901"
KAIFENG = "410000.410200"
LONGTING = "410000.410200.410202"
PROVINCE_SOCIETY = "410000.410900001"

_phones = itertools.count(10000000)


def fresh_phone() -> str:
    """A valid mobile number no other test uses (duplicates are province-wide)."""
    return f"139{next(_phones):08d}"


def who(path: str, *roles: str, username: str = "") -> Principal:
    return Principal(
        subject=str(uuid.uuid5(uuid.NAMESPACE_DNS, f"{path}:{roles}")),
        username=username or f"user-{path.split('.')[-1]}",
        tenant_id=TENANT_IDS[path],
        tenant_path=path,
        tenant_kind=KINDS[path],
        roles=frozenset(roles or ("admin",)),
    )


def record(**overrides: object) -> dict[str, object]:
    base: dict[str, object] = {
        "name": "张伟",
        "gender": "男",
        "birth_month": "1980-05",
        "ethnicity": "汉族",
        "political_status": "中共党员",
        "education": "大学本科",
        "industry": "农业",
        "specialty": "小麦高产栽培技术",
        "employer": "卧龙区农业技术推广站",
        "position": "高级农艺师",
        "phone": fresh_phone(),
        "email": "zhangwei@example.cn",
        "im_account": "zw_farm2016",
        "categories": ["农村科普", "服务精准扶贫"],
        "biography": "长期从事农技推广。",
        "experience": "2010年起开展科技下乡。",
        "plan": "开展小麦病虫害防治培训。",
        "id_number": "",
    }
    base.update(overrides)
    return base


def tenant_envelope(path: str, kind: str, name: str) -> envelope_pb2.EventEnvelope:
    parent = ".".join(path.split(".")[:-1])
    payload = envelope_pb2.TenantChanged(
        tenant_id=TENANT_IDS[path],
        code=path.split(".")[-1],
        name=name,
        kind=kind,
        parent_id=TENANT_IDS.get(parent, ""),
        path=path,
        status="active",
    )
    return build_envelope(
        event_type="identity.tenant.changed",
        tenant_id=TENANT_IDS[path],
        tenant_path=path,
        actor="system",
        payload=payload,
    )


_ids = itertools.count(1)


def fresh_id_number() -> str:
    """A valid 18-character 身份证号 no other test uses."""
    body = f"41130319800101{next(_ids):03d}"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]


def partner_registry(service_database: Any) -> Partners:
    """A real identity partner registry (its own migrated database, the Henan tree seeded):
    the gateway asks identity's ResolvePartner on every /partner/v1 request."""
    import kepu_identity
    from kepu_identity import seed

    migrations = Path(kepu_identity.__file__).parent / "migrations"
    _owner, url = service_database("identity_partners", migrations)
    db = Database(url)
    seed.seed_tree(db)
    return Partners(db, Sealer(base64.b64encode(os.urandom(32)).decode()))


def register_bank(registry: Partners, path: str = NANYANG, name: str = "邮储银行南阳分行") -> str:
    """Register a bank as the admin of the tenant at ``path``; returns its client id."""
    code = path.split(".")[-1]
    with registry.db.unit_of_work(Scope.system_scope()) as s:
        tenant_id = s.execute(
            text("SELECT id::text FROM tenants WHERE code = :c"), {"c": code}
        ).scalar_one()
    admin = Principal(
        subject=f"admin-{code}",
        username=f"admin-{code}",
        tenant_id=tenant_id,
        tenant_path=path,
        tenant_kind=KINDS[path],
        roles=frozenset({"admin"}),
    )
    scopes = ["partner:talents:read", "partner:projects:read", "partner:financing:write"]
    return str(registry.register(admin, name, scopes, "", []).partner.client_id)


class Edge:
    """Plays the gRPC edge for the service tests: ``edge.create(principal, ...)`` runs the use
    case ``target.create(session, principal, ...)`` in one unit of work of the principal's
    tenant, committed at the end (what ``TalentServicer._run`` does)."""

    def __init__(self, db: Database, target: Any) -> None:
        self._db = db
        self._target = target

    def __getattr__(self, name: str) -> Any:
        use_case = getattr(self._target, name)

        def run(principal: Principal, *args: Any, **kwargs: Any) -> Any:
            with self._db.unit_of_work(Scope.tenant(principal.tenant_path)) as s:
                return use_case(s, principal, *args, **kwargs)

        return run


class EdgeApp:
    """The talent app as the service tests drive it: every use case through ``Edge``; an
    import through the job runner, which owns its units of work."""

    def __init__(self, app: TalentApp) -> None:
        from kepu_talent import imports

        self.real = app
        self.db = app.db
        self.settings = app.settings
        self.talents = Edge(app.db, app.talents)
        self.archive = Edge(app.db, app.archive)
        self.documents = Edge(
            app.db,
            SimpleNamespace(
                export=app.documents.export,
                form=app.documents.form,
                get_import=imports.get_import,
            ),
        )
        self.documents.start_import = app.imports.start_import

    def servicer(self, verifier: Any) -> Any:
        return self.real.servicer(verifier)
