"""The embedded OpenID Connect provider's tables: authorization codes, SSO sessions and
signing keys (system scope: they belong to no tenant)."""

from __future__ import annotations

import json
from typing import Any

from kepu_common.db import affected
from sqlalchemy import text
from sqlalchemy.orm import Session

from ..models import AuthCode, SsoSession


def insert_auth_code(
    s: Session,
    *,
    code_hash: str,
    client_id: str,
    user_id: str,
    redirect_uri: str,
    code_challenge: str | None,
    code_challenge_method: str | None,
    scope: str,
    nonce: str | None,
    session_id: str,
) -> None:
    """A one-time code of a browser sign-in, valid for 60 seconds."""
    s.execute(
        text(
            "INSERT INTO auth_codes (code_hash, client_id, user_id, redirect_uri, code_challenge,"
            " code_challenge_method, scope, nonce, session_id, expires_at) VALUES (:h, :c, CAST(:u AS uuid),"
            " :r, :cc, :m, :s, :n, CAST(:sid AS uuid), now() + interval '60 seconds')"
        ),
        {
            "h": code_hash,
            "c": client_id,
            "u": user_id,
            "r": redirect_uri,
            "cc": code_challenge,
            "m": code_challenge_method,
            "s": scope,
            "n": nonce,
            "sid": session_id,
        },
    )


def use_auth_code(s: Session, code_hash: str) -> AuthCode | None:
    """Spend a live code (once): what it was issued for, or None."""
    row = (
        s.execute(
            text(
                "UPDATE auth_codes SET used = true WHERE code_hash = :h AND NOT used AND expires_at > now()"
                " RETURNING client_id, user_id::text AS user_id, redirect_uri, code_challenge, scope, nonce,"
                " session_id::text AS session_id"
            ),
            {"h": code_hash},
        )
        .mappings()
        .first()
    )
    return None if row is None else AuthCode(**row)


def save_session(
    s: Session, session_id: str, user_id: str, client_id: str, scope: str, refresh_hash: str
) -> None:
    """A new SSO session, or a refresh of one: its refresh token rotates."""
    s.execute(
        text(
            "INSERT INTO sso_sessions (id, user_id, client_id, scope, refresh_hash)"
            " VALUES (CAST(:id AS uuid), CAST(:u AS uuid), :c, :s, :h)"
            " ON CONFLICT (id) DO UPDATE SET refresh_hash = EXCLUDED.refresh_hash,"
            " last_refresh = now()"
        ),
        {"id": session_id, "u": user_id, "c": client_id, "s": scope, "h": refresh_hash},
    )


_SESSION_COLS = (
    "id::text AS id, user_id::text AS user_id, client_id, scope, revoked,"
    " extract(epoch FROM now() - last_refresh)::float AS idle"
)


def session_by_refresh(s: Session, refresh_hash: str) -> SsoSession | None:
    row = (
        s.execute(
            text(f"SELECT {_SESSION_COLS} FROM sso_sessions WHERE refresh_hash = :h"),
            {"h": refresh_hash},
        )
        .mappings()
        .first()
    )
    return None if row is None else SsoSession(**row)


def session_by_id(s: Session, session_id: str) -> SsoSession | None:
    row = (
        s.execute(
            text(f"SELECT {_SESSION_COLS} FROM sso_sessions WHERE id = CAST(:i AS uuid)"),
            {"i": session_id},
        )
        .mappings()
        .first()
    )
    return None if row is None else SsoSession(**row)


def revoke_session_of_refresh(s: Session, refresh_hash: str) -> int:
    return affected(
        s.execute(
            text("UPDATE sso_sessions SET revoked = true WHERE refresh_hash = :h AND NOT revoked"),
            {"h": refresh_hash},
        )
    )


def revoke_session(s: Session, session_id: str) -> int:
    return affected(
        s.execute(
            text("UPDATE sso_sessions SET revoked = true WHERE id = CAST(:i AS uuid)"),
            {"i": session_id},
        )
    )


# ---- signing keys ----------------------------------------------------------------------------


def lock_signing_keys(s: Session) -> None:
    """One process at a time decides whether a new key is due (transaction-scoped lock)."""
    s.execute(text("SELECT pg_advisory_xact_lock(4242)"))


def signing_keys_newest_first(s: Session) -> list[Any]:
    return list(
        s.execute(
            text(
                "SELECT kid, private_key, public_jwk, extract(epoch FROM now() - created_at) AS age"
                " FROM signing_keys ORDER BY created_at DESC"
            )
        ).all()
    )


def insert_signing_key(
    s: Session, kid: str, sealed_private: bytes, public_jwk: dict[str, Any]
) -> None:
    s.execute(
        text(
            "INSERT INTO signing_keys (kid, alg, private_key, public_jwk)"
            " VALUES (:k, 'RS256', :p, CAST(:j AS jsonb))"
        ),
        {"k": kid, "p": sealed_private, "j": json.dumps(public_jwk)},
    )


def delete_signing_keys_older_than(s: Session, seconds: float) -> None:
    s.execute(
        text("DELETE FROM signing_keys WHERE created_at < now() - make_interval(secs => :s)"),
        {"s": seconds},
    )


def age_signing_keys(s: Session, seconds: float) -> None:
    """Make every key ``seconds`` older (a forced rotation)."""
    s.execute(
        text("UPDATE signing_keys SET created_at = created_at - make_interval(secs => :s)"),
        {"s": seconds},
    )
