"""All SQL of the talent service. Every read of tenant-owned rows is filtered by the
caller's subtree (``scope``) here, and row-level security backs it up.

Longer than ~400 lines on purpose: STYLE keeps a service's SQL in its repository; the sections
follow the aggregates (tenants read model, talents, reviews and reveals, imports, archive,
partners)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from kepu_common.consent import LIVE
from kepu_common.db import Scope, scope_within
from sqlalchemy import Row, Text, and_, cast, func, insert, or_, select, text, update
from sqlalchemy.orm import Session

from .models import (
    talent_archive_entries,
    talent_attachments,
    talent_counts,
    talent_imports,
    talent_reveals,
    talent_reviews,
    talents,
    tenants,
)


def _under(column: Any, scope: str) -> Any:
    return column.op("<@")(func.text2ltree(scope))


# --- tenants read model -----------------------------------------------------------


def tenant_by_id(s: Session, tenant_id: str) -> Row[Any] | None:
    return s.execute(select(tenants).where(tenants.c.id == tenant_id)).first()


def tenant_by_path(s: Session, path: str) -> Row[Any] | None:
    return s.execute(select(tenants).where(tenants.c.path == path)).first()


def kinds_of(s: Session, paths: Iterable[str]) -> dict[str, str]:
    wanted = list(set(paths))
    if not wanted:
        return {}
    rows = s.execute(  # path = ANY(ltree[]): the unique index (ltree2text(path) read every tenant)
        text(
            "SELECT ltree2text(path) AS path, kind FROM tenants"
            " WHERE path = ANY(CAST(:p AS ltree[]))"
        ),
        {"p": wanted},
    )
    return {r.path: r.kind for r in rows}


def child_tenants(s: Session, path: str) -> Sequence[Row[Any]]:
    return s.execute(
        select(tenants)
        .where(tenants.c.path.op("~")(func.lquery(path + ".*{1}")))
        .order_by(tenants.c.code)
    ).all()


def set_quota(s: Session, tenant_id: str, quota: int | None) -> None:
    s.execute(update(tenants).where(tenants.c.id == tenant_id).values(talent_quota=quota))


# --- talents ----------------------------------------------------------------------


def insert_talents(s: Session, rows: list[dict[str, Any]]) -> None:
    """One multi-row INSERT per batch (COPY is not allowed on tables with RLS)."""
    if rows:
        s.execute(insert(talents), rows)


def get_talent(s: Session, scope: str, talent_id: str, *, lock: bool = False) -> Row[Any] | None:
    query = select(talents).where(talents.c.id == talent_id, _under(talents.c.tenant_path, scope))
    if lock:
        query = query.with_for_update()
    return s.execute(query).first()


def update_talent(s: Session, talent_id: str, values: dict[str, Any]) -> None:
    s.execute(
        update(talents).where(talents.c.id == talent_id).values(**values, updated_at=func.now())
    )


DENSE = 2000  # a search with more matches than this reads a near page in the list's order


def search_talents(
    s: Session,
    scope: str,
    *,
    q: str = "",
    specialty: str = "",
    category: str = "",
    status: str = "",
    offset: int = 0,
    limit: int = 20,
) -> tuple[Sequence[Row[Any]], int]:
    """A page of the talents under ``scope``, newest first, and the exact number of matches:
    without a text or category filter the sum of ``talent_counts`` over the subtree (migration
    0005), otherwise a count of the matching rows."""
    scoped = [_under(talents.c.tenant_path, scope)]
    if category:
        scoped.append(talents.c.categories.contains([category]))
    if status:
        scoped.append(talents.c.status == status)
    texts = [
        (first, second, value)
        for first, second, value in (
            ("name", "employer", q),
            ("specialty", "industry", specialty),
        )
        if value
    ]
    where = and_(*scoped, *(_contains(talents.c[a], talents.c[b], value) for a, b, value in texts))
    if q or specialty or category:
        # A search matching many talents (天文: one in twelve) sets a bit per row; with the
        # default 4 MB the bitmap went lossy and the recheck ran kepu_grams over every row of
        # the table (minutes at 10^6). Exact in 64 MB, for this transaction only.
        s.execute(text("SET LOCAL work_mem = '64MB'"))
        total = s.execute(select(func.count()).select_from(talents).where(where)).scalar_one()
        if texts and total > DENSE and offset < DENSE:
            rows = _dense_page(s, and_(*scoped), texts, offset, min(limit, total - offset))
            if rows is not None:
                return rows, int(total)
    else:
        total = s.execute(
            select(func.coalesce(func.sum(talent_counts.c.n), 0)).where(
                _under(talent_counts.c.tenant_path, scope), talent_counts.c.status == status
            )
        ).scalar_one()
    return _page(s, where, int(total), offset, limit), int(total)


def _page(s: Session, where: Any, total: int, offset: int, limit: int) -> Sequence[Row[Any]]:
    """The talents at ``offset`` (newest first) of the ``total`` matching ``where``.

    Any page at 10^6 talents (issue 16): the page's keys come from the list's index
    (``talents_recent``: created_at DESC, id, including tenant_path and status, migration
    0007), an index-only scan where a skipped talent costs an index entry rather than a row;
    only the page's own rows are read. Past the middle the keys are counted from the oldest
    end, so the last page skips as little as the first."""
    newest: tuple[Any, ...] = (talents.c.created_at.desc(), talents.c.id)
    skip, take, order = offset, limit, newest
    if total - offset < offset:  # nearer the oldest end
        skip, take = max(0, total - offset - limit), min(limit, total - offset)
        order = (talents.c.created_at.asc(), talents.c.id.desc())
    if take <= 0:
        return []
    keys = (
        select(talents.c.id, talents.c.created_at)
        .where(where)
        .order_by(*order)
        .offset(skip)
        .limit(take)
        .subquery()
    )
    return s.execute(select(talents).join(keys, talents.c.id == keys.c.id).order_by(*newest)).all()


CHUNK = 2000


def _dense_page(
    s: Session, scoped: Any, texts: list[tuple[str, str, str]], offset: int, limit: int
) -> Sequence[Row[Any]] | None:
    """A near page of a search with more than ``DENSE`` matches: the list's own order walked
    ``CHUNK`` talents at a time (``talents_recent``, as the unfiltered list), the text matched
    by ILIKE on each chunk, until the page is full. A bitmap of every match sorted for 20 of
    them cost 83,333 rows at 10^6 (天文), and the planner, estimating 1,113 matches, would not
    walk the index itself. None when the matches lie too far down the list (``CHUNK * 100``
    talents walked)."""
    cols = (
        talents.c.id,
        talents.c.created_at,
        *{talents.c[c] for a, b, _ in texts for c in (a, b)},
    )
    found: list[Any] = []
    start = 0
    while len(found) < offset + limit and start < CHUNK * 100:
        chunk = (
            select(*cols)
            .where(scoped)
            .order_by(talents.c.created_at.desc(), talents.c.id)
            .offset(start)
            .limit(CHUNK)
            .subquery()
        )
        like = [
            or_(chunk.c[a].ilike(f"%{_escape_like(v)}%"), chunk.c[b].ilike(f"%{_escape_like(v)}%"))
            for a, b, v in texts
        ]
        ids = s.execute(
            select(chunk.c.id).where(*like).order_by(chunk.c.created_at.desc(), chunk.c.id)
        ).scalars()
        found += list(ids)
        start += CHUNK
    if len(found) < offset + limit:
        return None
    page = found[offset : offset + limit]
    if not page:
        return []
    return s.execute(
        select(talents)
        .where(talents.c.id.in_(page), scoped)
        .order_by(talents.c.created_at.desc(), talents.c.id)
    ).all()


def _contains(first: Any, second: Any, value: str) -> Any:
    """``value`` case-insensitively in either column: their grams contain the value's grams
    (the GIN indexes of migration 0006, usable under RLS), then ILIKE decides."""
    like = f"%{_escape_like(value)}%"
    grams = func.kepu_grams(first, second).op("@>", is_comparison=True)(
        func.kepu_grams(cast(value, Text))
    )
    return and_(grams, or_(first.ilike(like), second.ilike(like)))


def talents_for_export(s: Session, scope: str, status: str = "") -> Sequence[Row[Any]]:
    query = select(talents).where(_under(talents.c.tenant_path, scope))
    if status:
        query = query.where(talents.c.status == status)
    return s.execute(query.order_by(talents.c.tenant_path, talents.c.created_at)).all()


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def existing_fingerprints(
    s: Session,
    province: str,
    id_hashes: list[str],
    name_phone_hashes: list[str],
    exclude_id: str | None = None,
) -> tuple[set[str], set[str]]:
    """Keyed hashes already used by a live talent anywhere in the province.

    Reads in the system scope for this one statement, inside the caller's transaction: it
    returns hashes only, never a record of another tenant.
    """
    with scope_within(s, Scope.system_scope()):
        rows = s.execute(
            text(
                "SELECT id_number_hash, name_phone_hash FROM talents"
                " WHERE province = :p AND status NOT IN ('rejected', 'revoked')"
                " AND (id_number_hash = ANY(:ih) OR name_phone_hash = ANY(:nh))"
                " AND (CAST(:ex AS uuid) IS NULL OR id <> CAST(:ex AS uuid))"
            ),
            {"p": province, "ih": id_hashes, "nh": name_phone_hashes, "ex": exclude_id},
        ).all()
    wanted_ids, wanted_np = set(id_hashes), set(name_phone_hashes)
    return (
        {r.id_number_hash for r in rows if r.id_number_hash in wanted_ids},
        {r.name_phone_hash for r in rows if r.name_phone_hash in wanted_np},
    )


def next_certificate_sequence(s: Session) -> int:
    return int(s.execute(text("SELECT nextval('talent_certificate_seq')")).scalar_one())


def counts_by_child(s: Session, scope: str, depth: int) -> dict[str, tuple[int, int]]:
    """(certified, pending) per ancestor at ``depth`` labels, within ``scope``."""
    rows = s.execute(
        text(
            "SELECT ltree2text(subpath(tenant_path, 0, :d)) AS p,"
            " count(*) FILTER (WHERE status = 'certified') AS certified,"
            " count(*) FILTER (WHERE status IN ('recommended', 'city_reviewed')) AS pending"
            " FROM talents WHERE tenant_path <@ text2ltree(:scope) AND nlevel(tenant_path) >= :d"
            " GROUP BY 1"
        ),
        {"d": depth, "scope": scope},
    )
    return {r.p: (int(r.certified), int(r.pending)) for r in rows}


# --- review history and reveal audit ------------------------------------------------


def add_review(s: Session, values: dict[str, Any]) -> None:
    s.execute(insert(talent_reviews).values(**values))


def reviews_of(s: Session, scope: str, talent_id: str) -> Sequence[Row[Any]]:
    return s.execute(
        select(talent_reviews)
        .where(talent_reviews.c.talent_id == talent_id, _under(talent_reviews.c.tenant_path, scope))
        .order_by(talent_reviews.c.id)
    ).all()


def add_reveals(s: Session, rows: list[dict[str, Any]]) -> None:
    if rows:
        s.execute(insert(talent_reveals), rows)


def reveals_of(s: Session, scope: str, talent_id: str) -> Sequence[Row[Any]]:
    return s.execute(
        select(talent_reveals)
        .where(talent_reveals.c.talent_id == talent_id, _under(talent_reveals.c.tenant_path, scope))
        .order_by(talent_reveals.c.id)
    ).all()


# --- imports ------------------------------------------------------------------------


def insert_import(s: Session, values: dict[str, Any]) -> None:
    s.execute(insert(talent_imports).values(**values))


def update_import(s: Session, import_id: str, values: dict[str, Any]) -> None:
    s.execute(update(talent_imports).where(talent_imports.c.id == import_id).values(**values))


STALE_IMPORT_MINUTES = 30  # an import is capped at 20,000 rows and takes seconds


def fail_stale_imports(s: Session) -> int:
    """Imports still validating/writing long after they started died with their process.

    The write is one transaction, so nothing of theirs was written; say so to the clerk."""
    result = s.execute(
        update(talent_imports)
        .where(
            talent_imports.c.status.in_(("validating", "writing")),
            talent_imports.c.created_at < func.now() - timedelta(minutes=STALE_IMPORT_MINUTES),
        )
        .values(
            status="failed",
            message="导入因服务中断而未完成，未写入任何数据，请重新导入。",
            finished_at=func.now(),
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


def get_import(s: Session, scope: str, import_id: str) -> Row[Any] | None:
    return s.execute(
        select(talent_imports).where(
            talent_imports.c.id == import_id, _under(talent_imports.c.tenant_path, scope)
        )
    ).first()


# --- electronic archive ---------------------------------------------------------------


def add_archive_entry(s: Session, values: dict[str, Any]) -> None:
    s.execute(insert(talent_archive_entries).values(**values))


def add_attachment(s: Session, values: dict[str, Any]) -> None:
    s.execute(insert(talent_attachments).values(**values))


def archive_of(
    s: Session, scope: str, talent_id: str
) -> tuple[Sequence[Row[Any]], Sequence[Row[Any]]]:
    entries = s.execute(
        select(talent_archive_entries)
        .where(
            talent_archive_entries.c.talent_id == talent_id,
            _under(talent_archive_entries.c.tenant_path, scope),
        )
        .order_by(talent_archive_entries.c.occurred_on.desc().nulls_last())
    ).all()
    files = s.execute(
        select(talent_attachments)
        .where(
            talent_attachments.c.talent_id == talent_id,
            _under(talent_attachments.c.tenant_path, scope),
        )
        .order_by(talent_attachments.c.created_at)
    ).all()
    return entries, files


def get_attachment(s: Session, scope: str, talent_id: str, attachment_id: str) -> Row[Any] | None:
    return s.execute(
        select(talent_attachments).where(
            talent_attachments.c.id == attachment_id,
            talent_attachments.c.talent_id == talent_id,
            _under(talent_attachments.c.tenant_path, scope),
        )
    ).first()


def tenant_names(s: Session, ids: Iterable[str]) -> dict[str, str]:
    wanted = list(set(ids))
    if not wanted:
        return {}
    rows = s.execute(select(tenants.c.id, tenants.c.name).where(tenants.c.id.in_(wanted)))
    return {str(r.id): r.name for r in rows}


# --- partners: the consent ledger, the partner view, its audit log, financing -------------


PARTNER_TALENT_COLS = (
    "t.id::text AS id, t.tenant_id::text AS tenant_id, ltree2text(t.tenant_path) AS tenant_path,"
    " t.name, t.gender, t.specialty, t.categories, t.certificate_no, t.phone_masked, t.status,"
    " coalesce(tn.name, '') AS region_name,"
    " coalesce(tn.code, ltree2text(subpath(t.tenant_path, nlevel(t.tenant_path) - 1))) AS region_code"
)
OUTCOME_COLS = (
    "id::text AS id, talent_id::text AS talent_id, partner_client_id, product, amount_yuan,"
    " status, decided_at, created_at"
)
# the talents with a live consent for the calling partner (:cid) of the registering tenant (:pp)
_LIVE_FOR_PARTNER = (
    "FROM talent_consents c JOIN talents t ON t.id = c.talent_id"
    " LEFT JOIN tenants tn ON tn.id = t.tenant_id"
    f" WHERE c.partner_client_id = :cid AND {LIVE}"
    " AND c.partner_tenant_path = text2ltree(:pp) AND t.tenant_path <@ text2ltree(:pp)"
)


def partner_talents(
    s: Session, client_id: str, partner_path: str, now: datetime, offset: int, limit: int
) -> tuple[list[Row[Any]], int]:
    """Certified talents consented to the partner, newest certificates first, and their count."""
    params = {"cid": client_id, "pp": partner_path, "now": now}
    where = f"{_LIVE_FOR_PARTNER} AND t.status = 'certified'"
    total = s.execute(text(f"SELECT count(*) {where}"), params).scalar_one()
    rows = list(
        s.execute(
            text(
                f"SELECT {PARTNER_TALENT_COLS} {where}"
                " ORDER BY t.certified_at DESC NULLS LAST, t.id LIMIT :n OFFSET :o"
            ),
            {**params, "n": limit, "o": offset},
        )
    )
    return rows, int(total)


def partner_talent_for_update(
    s: Session, client_id: str, partner_path: str, talent_id: str, now: datetime
) -> Row[Any] | None:
    """A talent consented to the partner (any status), with its consent's id; the consent row's
    lock serialises this partner's posts for this talent."""
    return s.execute(
        text(
            f"SELECT {PARTNER_TALENT_COLS}, c.id::text AS consent_id {_LIVE_FOR_PARTNER}"
            " AND t.id = CAST(:t AS uuid) FOR UPDATE OF c"
        ),
        {"cid": client_id, "pp": partner_path, "t": talent_id, "now": now},
    ).first()


def log_partner_access(s: Session, client_id: str, rows: list[Any], action: str) -> None:
    s.execute(
        text(
            "INSERT INTO partner_access_log (talent_id, tenant_path, partner_client_id, action)"
            " VALUES (CAST(:t AS uuid), text2ltree(:p), :c, :a)"
        ),
        [{"t": r.id, "p": r.tenant_path, "c": client_id, "a": action} for r in rows],
    )


def unnotified_consents(
    s: Session, scope: str, talent_id: str, statuses: Sequence[str], now: datetime
) -> list[Row[Any]]:
    """Live consents of the talent whose partner has not been told of its status yet, when
    that status is one of ``statuses``; locked (another transaction's are skipped)."""
    return list(
        s.execute(
            text(
                f"SELECT {PARTNER_TALENT_COLS}, c.id::text AS consent_id,"
                " c.partner_client_id FROM talent_consents c"
                " JOIN talents t ON t.id = c.talent_id"
                " LEFT JOIN tenants tn ON tn.id = t.tenant_id"
                f" WHERE c.talent_id = CAST(:t AS uuid) AND {LIVE}"
                " AND t.status = ANY(:st) AND c.notified_status <> t.status"
                " AND c.tenant_path <@ text2ltree(:scope)"
                " FOR UPDATE OF c SKIP LOCKED"
            ),
            {"t": talent_id, "st": list(statuses), "scope": scope, "now": now},
        )
    )


def mark_notified(s: Session, consent_id: str, status: str) -> None:
    s.execute(
        text("UPDATE talent_consents SET notified_status = :st WHERE id = CAST(:id AS uuid)"),
        {"st": status, "id": consent_id},
    )


def financing_of(s: Session, scope: str, talent_id: str) -> list[Row[Any]]:
    return list(
        s.execute(
            text(
                f"SELECT {OUTCOME_COLS} FROM financing_outcomes"
                " WHERE talent_id = CAST(:t AS uuid) AND tenant_path <@ text2ltree(:scope)"
                " ORDER BY created_at DESC"
            ),
            {"t": talent_id, "scope": scope},
        )
    )


_SAME_OUTCOME = (
    "partner_client_id = :c AND talent_id = CAST(:t AS uuid) AND product = :product"
    " AND amount_yuan = :amount AND status = :status AND decided_at = :day"
)


def _outcome_params(client_id: str, talent_id: str, f: Any, key: str | None) -> dict[str, Any]:
    return {
        "c": client_id,
        "t": talent_id,
        "product": f.product,
        "amount": f.amount,
        "status": f.status,
        "day": f.decided_at,
        "key": key,
    }


def outcome_by_key(s: Session, client_id: str, talent_id: str, f: Any, key: str) -> Row[Any] | None:
    """The outcome the partner posted with ``key``, with ``same``: whether it is ``f``."""
    return s.execute(
        text(
            f"SELECT {OUTCOME_COLS}, ({_SAME_OUTCOME}) AS same FROM financing_outcomes"
            " WHERE partner_client_id = :c AND idempotency_key = :key"
        ),
        _outcome_params(client_id, talent_id, f, key),
    ).first()


def same_outcome(s: Session, client_id: str, talent_id: str, f: Any) -> Row[Any] | None:
    """The first outcome equal to ``f`` (talent, product, amount, status and day)."""
    return s.execute(
        text(
            f"SELECT {OUTCOME_COLS} FROM financing_outcomes WHERE {_SAME_OUTCOME}"
            " ORDER BY created_at, id"
        ),
        _outcome_params(client_id, talent_id, f, None),
    ).first()


def insert_outcome(s: Session, values: dict[str, Any]) -> Row[Any]:
    return s.execute(
        text(
            "INSERT INTO financing_outcomes (id, talent_id, tenant_path, partner_client_id,"
            " consent_id, product, amount_yuan, status, decided_at, idempotency_key)"
            " VALUES (CAST(:id AS uuid), CAST(:t AS uuid), text2ltree(:p), :c,"
            " CAST(:cons AS uuid), :product, :amount, :status, :day, :key)"
            f" RETURNING {OUTCOME_COLS}"
        ),
        values,
    ).one()
