"""Realm clients: kepu-portal (public, code + PKCE), kepu-cli (public, password grant), partners."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.orm import Session

from . import passwords


@dataclass(frozen=True)
class Client:
    client_id: str
    public: bool
    secret_hash: str | None
    redirect_uris: list[str]
    grant_types: list[str]
    tenant_id: str | None
    scopes: list[str] = field(default_factory=list)  # partner scopes granted at registration

    def allows_redirect(self, uri: str) -> bool:
        """Exact matches only: a registered ``*`` pattern matches nothing (no wildcards)."""
        return bool(uri) and uri in self.redirect_uris

    def check_secret(self, secret: str | None) -> bool:
        if self.public:
            return True
        return bool(
            secret and self.secret_hash and passwords.verify_password(self.secret_hash, secret)
        )


def get_client(s: Session, client_id: str) -> Client | None:
    row = s.execute(
        text(
            "SELECT client_id, public, secret_hash, redirect_uris, grant_types, tenant_id::text AS tenant_id,"
            " scopes FROM clients WHERE client_id = :c AND enabled"
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


def upsert_client(
    s: Session,
    *,
    client_id: str,
    name: str,
    public: bool,
    grant_types: list[str],
    redirect_uris: list[str] | None = None,
    secret: str | None = None,
    tenant_id: str | None = None,
    scopes: list[str] | None = None,
) -> None:
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
            "h": passwords.hash_password(secret) if secret else None,
            "r": redirect_uris or [],
            "g": grant_types,
            "t": tenant_id,
            "s": scopes or [],
        },
    )
