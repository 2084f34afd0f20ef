"""Running a service's Alembic migrations programmatically (as the owner role)."""

from __future__ import annotations

from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, pool

from .db import make_engine


def upgrade(script_location: Path, owner_url: str, app_role: str = "kepu_app") -> None:
    """Upgrade the database at ``owner_url`` to head; ``app_role`` receives grants."""
    cfg = Config()
    cfg.set_main_option("script_location", str(script_location))
    cfg.attributes["owner_url"] = owner_url
    cfg.attributes["app_role"] = app_role
    command.upgrade(cfg, "head")


def run_env(target_metadata: MetaData | None = None) -> None:
    """Body of every service's ``migrations/env.py`` (online mode only).

    ``target_metadata``: the service's ``models.metadata`` (what ``alembic revision
    --autogenerate`` compares the database with)."""
    cfg = context.config
    engine = make_engine(cfg.attributes["owner_url"])
    engine.pool = pool.NullPool(engine.pool._creator)
    with engine.connect() as conn:
        context.configure(
            connection=conn,
            target_metadata=target_metadata,
            transaction_per_migration=True,
            app_role=cfg.attributes.get("app_role", "kepu_app"),
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


def app_role() -> str:
    """The app role inside a migration script (passed through ``run_migrations``)."""
    return str(context.get_context().opts.get("app_role") or "kepu_app")
