"""The 科普中国 e站 network (issue 14): stations, schedules, activities, denominators, and the
talents read model (fed by talent.events) that a station's 科普信息员 are checked against."""

from alembic import op
from kepu_common import rls
from kepu_common.migrations import app_role

revision = "0003"
down_revision = "0002"

TABLES = {
    "stations": """CREATE TABLE stations (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL,
        tenant_path ltree NOT NULL,
        kind text NOT NULL CHECK (kind IN ('community', 'school', 'village')),
        name text NOT NULL,
        address text NOT NULL,
        host text NOT NULL,
        conditions jsonb NOT NULL,
        status text NOT NULL,
        plaque_no text UNIQUE,
        informant_ids text[] NOT NULL DEFAULT '{}',
        opinion text NOT NULL DEFAULT '',
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        certified_at timestamptz
    )""",
    "station_schedules": """CREATE TABLE station_schedules (
        station_id uuid NOT NULL REFERENCES stations (id),
        month text NOT NULL,
        tenant_path ltree NOT NULL,
        items jsonb NOT NULL,
        PRIMARY KEY (station_id, month)
    )""",
    "station_activities": """CREATE TABLE station_activities (
        id uuid PRIMARY KEY,
        station_id uuid NOT NULL REFERENCES stations (id),
        tenant_path ltree NOT NULL,
        day date NOT NULL,
        title text NOT NULL,
        participants int NOT NULL CHECK (participants >= 0),
        created_by text NOT NULL
    )""",
    "coverage_denominators": """CREATE TABLE coverage_denominators (
        tenant_id uuid NOT NULL,
        tenant_path ltree NOT NULL,
        year int NOT NULL,
        communities int NOT NULL CHECK (communities >= 0),
        schools int NOT NULL CHECK (schools >= 0),
        villages int NOT NULL CHECK (villages >= 0),
        PRIMARY KEY (tenant_id, year)
    )""",
    "talents": """CREATE TABLE talents (
        id uuid PRIMARY KEY,
        tenant_path ltree NOT NULL,
        status text NOT NULL
    )""",
}


def upgrade() -> None:
    role = app_role()
    for table, ddl in TABLES.items():
        op.execute(ddl)
        op.execute(f"CREATE INDEX {table}_path_gist ON {table} USING gist (tenant_path)")
        op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {role}")
        for stmt in rls.enable_rls_sql(table):
            op.execute(stmt)
    op.execute("CREATE INDEX stations_status ON stations (status, kind)")
    op.execute("CREATE INDEX station_activities_station ON station_activities (station_id, day)")
