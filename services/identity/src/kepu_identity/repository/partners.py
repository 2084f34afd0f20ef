"""Partners 合作机构, the realm's OAuth2 clients and the partners' webhook deliveries."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from ..models import Client, Partner, WebhookTarget

PARTNER_COLS = (
    "p.client_id, p.name, p.tenant_id::text AS tenant_id, p.tenant_path::text AS tenant_path,"
    " p.scopes, p.webhook_url, p.events, p.enabled, p.created_at, p.secret_rotated_at,"
    " t.name AS tenant_name"
)


def _partners(s: Session, where: str, params: dict[str, Any], order: str = "") -> list[Partner]:
    """THE read of partners, with the registering tenant's name (RLS: the session's scope)."""
    rows = s.execute(
        text(
            f"SELECT {PARTNER_COLS} FROM partners p JOIN tenants t ON t.id = p.tenant_id"
            f" WHERE {where}{order}"
        ),
        params,
    ).mappings()
    return [
        Partner(**{**r, "scopes": list(r["scopes"]), "events": list(r["events"])}) for r in rows
    ]


def get_partner(s: Session, client_id: str) -> Partner | None:
    """A partner by client id, as far as the transaction's scope (RLS) and the caller see."""
    found = _partners(s, "p.client_id = :c", {"c": client_id})
    return found[0] if found else None


def partners_of(s: Session, tenant_path: str) -> list[Partner]:
    """The partners registered by the tenant at ``tenant_path`` itself, oldest first."""
    return _partners(
        s, "p.tenant_path = CAST(:p AS ltree)", {"p": tenant_path}, " ORDER BY p.created_at"
    )


def insert_partner(
    s: Session,
    *,
    client_id: str,
    tenant_id: str,
    tenant_path: str,
    name: str,
    scopes: list[str],
    webhook_url: str,
    events: list[str],
    secret_hash: str,
    sealed_webhook_secret: bytes,
    by: str,
) -> None:
    """The partner and its confidential client (client credentials, the tenant's claims)."""
    s.execute(
        text(
            "INSERT INTO clients (client_id, name, public, secret_hash, redirect_uris,"
            " grant_types, scopes, tenant_id) VALUES (:c, :n, false, :h, '{}',"
            " '{client_credentials}', :s, CAST(:t AS uuid))"
        ),
        {"c": client_id, "n": name, "h": secret_hash, "s": scopes, "t": tenant_id},
    )
    s.execute(
        text(
            "INSERT INTO partners (client_id, tenant_id, tenant_path, name, scopes,"
            " webhook_url, events, webhook_secret, created_by) VALUES (:c, CAST(:t AS uuid),"
            " CAST(:p AS ltree), :n, :s, :u, :e, :w, :by)"
        ),
        {
            "c": client_id,
            "t": tenant_id,
            "p": tenant_path,
            "n": name,
            "s": scopes,
            "u": webhook_url,
            "e": events,
            "w": sealed_webhook_secret,
            "by": by,
        },
    )


def set_partner_secret(s: Session, client_id: str, secret_hash: str) -> None:
    s.execute(
        text("UPDATE clients SET secret_hash = :h WHERE client_id = :c"),
        {"h": secret_hash, "c": client_id},
    )
    s.execute(
        text("UPDATE partners SET secret_rotated_at = now() WHERE client_id = :c"),
        {"c": client_id},
    )


def disable_partner(s: Session, client_id: str) -> None:
    s.execute(text("UPDATE clients SET enabled = false WHERE client_id = :c"), {"c": client_id})
    s.execute(
        text(
            "UPDATE partners SET enabled = false, disabled_at = coalesce(disabled_at, now())"
            " WHERE client_id = :c"
        ),
        {"c": client_id},
    )


def webhook_target(s: Session, client_id: str) -> WebhookTarget | None:
    """Webhook URL, sealed secret and subscriptions of an enabled partner (worker, system scope)."""
    row = (
        s.execute(
            text(
                "SELECT client_id, tenant_path::text AS tenant_path, webhook_url, webhook_secret,"
                " events FROM partners WHERE client_id = :c AND enabled"
            ),
            {"c": client_id},
        )
        .mappings()
        .first()
    )
    if row is None:
        return None
    return WebhookTarget(
        row["client_id"],
        row["tenant_path"],
        row["webhook_url"],
        bytes(row["webhook_secret"]),
        list(row["events"]),
    )


def get_client(s: Session, client_id: str) -> Client | None:
    """An enabled client of the realm."""
    row = s.execute(
        text(
            "SELECT client_id, public, secret_hash, redirect_uris, grant_types,"
            " tenant_id::text AS tenant_id, scopes FROM clients WHERE client_id = :c AND enabled"
        ),
        {"c": client_id},
    ).first()
    if row is None:
        return None
    return Client(
        row.client_id,
        row.public,
        row.secret_hash,
        list(row.redirect_uris),
        list(row.grant_types),
        row.tenant_id,
        list(row.scopes or []),
    )


def client_name(s: Session, client_id: str) -> str:
    """The registered name of an OAuth2 client (a partner), or ''."""
    name = s.execute(
        text("SELECT name FROM clients WHERE client_id = :c"), {"c": client_id}
    ).scalar_one_or_none()
    return str(name or "")


def upsert_client(
    s: Session,
    *,
    client_id: str,
    name: str,
    public: bool,
    grant_types: list[str],
    redirect_uris: list[str] | None = None,
    secret_hash: str | None = None,
    tenant_id: str | None = None,
    scopes: list[str] | None = None,
) -> None:
    """A seeded client; a rerun keeps its secret unless a new one is given."""
    s.execute(
        text(
            "INSERT INTO clients (client_id, name, public, secret_hash, redirect_uris, grant_types, tenant_id,"
            " scopes) VALUES (:c, :n, :p, :h, :r, :g, CAST(:t AS uuid), :s) ON CONFLICT (client_id) DO UPDATE SET"
            " name = EXCLUDED.name, public = EXCLUDED.public, redirect_uris = EXCLUDED.redirect_uris,"
            " grant_types = EXCLUDED.grant_types, scopes = EXCLUDED.scopes,"
            " secret_hash = coalesce(EXCLUDED.secret_hash, clients.secret_hash)"
        ),
        {
            "c": client_id,
            "n": name,
            "p": public,
            "h": secret_hash,
            "r": redirect_uris or [],
            "g": grant_types,
            "t": tenant_id,
            "s": scopes or [],
        },
    )


# ---- webhook deliveries ----------------------------------------------------------------------


def insert_delivery(
    s: Session, *, event_id: str, target: WebhookTarget, event_type: str, body: str
) -> None:
    """A pending delivery (once per event: the consumer may see an event again)."""
    s.execute(
        text(
            "INSERT INTO webhook_deliveries (id, client_id, tenant_path, event_type, url, body)"
            " VALUES (CAST(:id AS uuid), :c, CAST(:p AS ltree), :e, :u, :b) ON CONFLICT DO NOTHING"
        ),
        {
            "id": event_id,
            "c": target.client_id,
            "p": target.tenant_path,
            "e": event_type,
            "u": target.webhook_url,
            "b": body,
        },
    )


def lease_due_deliveries(s: Session, n: int, lease_seconds: float) -> list[Any]:
    """Up to ``n`` due deliveries, their next attempt moved ``lease_seconds`` on while in flight."""
    return list(
        s.execute(
            text(
                "WITH due AS (SELECT id FROM webhook_deliveries WHERE status = 'pending'"
                " AND next_attempt_at <= now() ORDER BY next_attempt_at LIMIT :n"
                " FOR UPDATE SKIP LOCKED)"
                " UPDATE webhook_deliveries w SET next_attempt_at = now() + make_interval(secs => :l)"
                " FROM due WHERE w.id = due.id"
                " RETURNING w.id::text AS id, w.client_id, w.event_type, w.url, w.body, w.attempts"
            ),
            {"n": n, "l": lease_seconds},
        ).all()
    )


def retry_delivery_later(
    s: Session, delivery_id: str, attempts: int, code: int | None, error: str, delay: float
) -> None:
    s.execute(
        text(
            "UPDATE webhook_deliveries SET attempts = :a, last_status_code = :c,"
            " last_error = :e, next_attempt_at = now() + make_interval(secs => :d)"
            " WHERE id = CAST(:id AS uuid)"
        ),
        {"a": attempts, "c": code, "e": error, "d": delay, "id": delivery_id},
    )


def finish_delivery(
    s: Session, delivery_id: str, status: str, code: int | None, error: str
) -> None:
    """The delivery's outcome: ``delivered``, ``failed`` (counted as an attempt) or ``skipped``."""
    s.execute(
        text(
            "UPDATE webhook_deliveries SET status = :s, attempts = attempts + :inc,"
            " last_status_code = :c, last_error = :e,"
            " delivered_at = CASE WHEN :s = 'delivered' THEN now() END"
            " WHERE id = CAST(:id AS uuid)"
        ),
        {
            "s": status,
            "inc": 0 if status == "skipped" else 1,
            "c": code,
            "e": error,
            "id": delivery_id,
        },
    )
