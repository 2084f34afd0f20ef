"""The list's shortcuts of migration 0005 keep its answers: the total from ``talent_counts``
equals a live count through every kind of write (create, review, a move to another branch,
delete), and one- and two-character Chinese searches (too short for pg_trgm's trigrams) find
their matches in either searched column."""

from kepu_common.db import Scope
from sqlalchemy import text
from talent_support import (
    KAIFENG,
    LONGTING,
    NANYANG,
    PROVINCE,
    TENANT_IDS,
    WANCHENG,
    WOLONG,
    record,
    who,
)

LIVE = (
    "SELECT count(*) FROM talents WHERE tenant_path <@ CAST(:p AS ltree)"
    " AND (CAST(:s AS text) = '' OR status = :s)"
)


def test_the_list_total_stays_exact_across_create_review_move_and_delete(app, database):
    def totals(status: str = "") -> dict[str, tuple[int, int]]:
        """Per scope: (the list's 共 N 人, a live count of the rows)."""
        out = {}
        for path in (PROVINCE, NANYANG, WOLONG, KAIFENG):
            listed = app.talents.search(who(path), status=status)["total"]
            with database.unit_of_work(Scope.system_scope()) as s:
                live = s.execute(text(LIVE), {"p": path, "s": status}).scalar_one()
            out[path] = (listed, live)
        return out

    def exact(status: str = "") -> dict[str, int]:
        now = totals(status)
        assert all(listed == live for listed, live in now.values()), now
        return {path: listed for path, (listed, _) in now.items()}

    before, drafts = exact(), exact("draft")
    a = app.talents.create(who(WOLONG), record())
    b = app.talents.create(who(WOLONG), record())
    after = exact()
    assert after[WOLONG] == before[WOLONG] + 2 and after[PROVINCE] == before[PROVINCE] + 2
    assert exact("draft")[NANYANG] == drafts[NANYANG] + 2

    recommended = exact("recommended")
    app.talents.recommend(who(WOLONG), a["id"], "同意推荐")
    assert exact("recommended")[WOLONG] == recommended[WOLONG] + 1
    assert exact("draft")[WOLONG] == drafts[WOLONG] + 1

    with database.unit_of_work(Scope.system_scope()) as s:  # a move to another branch
        s.execute(
            text(
                "UPDATE talents SET tenant_path = CAST(:p AS ltree), tenant_id = CAST(:t AS uuid)"
                " WHERE id = CAST(:id AS uuid)"
            ),
            {"p": LONGTING, "t": TENANT_IDS[LONGTING], "id": b["id"]},
        )
    moved = exact()
    assert moved[NANYANG] == after[NANYANG] - 1 and moved[KAIFENG] == after[KAIFENG] + 1
    assert moved[PROVINCE] == after[PROVINCE]

    with database.unit_of_work(Scope.system_scope()) as s:
        s.execute(
            text("DELETE FROM talents WHERE id = ANY(CAST(:ids AS uuid[]))"),
            {"ids": [a["id"], b["id"]]},
        )
    assert exact() == before
    assert exact("draft") == drafts


def test_one_and_two_character_chinese_searches_find_their_matches(app):
    app.talents.create(
        who(WANCHENG),
        record(name="宋志强", employer="南阳天文馆", specialty="天文观测", industry="教育"),
    )
    me = who(NANYANG)

    def names(**query: str) -> list[str]:
        return [t["fields"]["name"] for t in app.talents.search(me, **query)["talents"]]

    assert "宋志强" in names(q="宋志")
    assert "宋志强" in names(q="宋")
    assert "宋志强" in names(q="天文馆")  # the employer, the other column of the same search
    assert "宋志强" in names(specialty="天文")
    assert "宋志强" in names(specialty="教育")  # the industry
    assert "宋志强" not in names(q="志宋")
    found = app.talents.search(me, q="宋志")
    assert found["total"] == len(found["talents"]) >= 1


def test_every_page_from_either_end_lists_each_talent_once_newest_first(app, database):
    """Pages past the middle are counted from the oldest end (issue 16): walking every page,
    unfiltered and by status, gives the live order exactly, the last page partly filled."""
    for _ in range(7):
        app.talents.create(who(WOLONG), record())
    me = who(NANYANG)
    for status in ("", "draft"):
        with database.unit_of_work(Scope.system_scope()) as s:
            live = [
                str(i)
                for i in s.execute(
                    text(
                        "SELECT id FROM talents WHERE tenant_path <@ CAST(:p AS ltree)"
                        " AND (CAST(:s AS text) = '' OR status = :s)"
                        " ORDER BY created_at DESC, id"
                    ),
                    {"p": NANYANG, "s": status},
                ).scalars()
            ]
        assert len(live) >= 7
        walked: list[str] = []
        for page in range(1, len(live) // 3 + 3):  # one page past the end: empty
            found = app.talents.search(me, status=status, page=page, page_size=3)
            assert found["total"] == len(live)
            walked += [t["id"] for t in found["talents"]]
        assert walked == live, status


def test_a_search_with_many_matches_walks_the_list_and_gives_the_same_pages(
    app, database, monkeypatch
):
    """A search with more than DENSE matches reads a near page by walking the list's order in
    chunks (at 10^6 a bitmap of all 83,333 天文 matches took minutes): the pages are the ones
    the live, ordered query gives, from the walk and past it."""
    from kepu_talent import repository

    for i in range(6):
        app.talents.create(who(WOLONG), record(specialty=f"天文观测{i}", industry="教育"))
    app.talents.create(who(WOLONG), record(specialty="小麦栽培", industry="天文台"))
    me = who(NANYANG)
    with database.unit_of_work(Scope.system_scope()) as s:
        live = [
            str(i)
            for i in s.execute(
                text(
                    "SELECT id FROM talents WHERE tenant_path <@ CAST(:p AS ltree)"
                    " AND (specialty ILIKE '%天文%' OR industry ILIKE '%天文%')"
                    " ORDER BY created_at DESC, id"
                ),
                {"p": NANYANG},
            ).scalars()
        ]
    assert len(live) >= 7
    monkeypatch.setattr(repository, "DENSE", 3)
    monkeypatch.setattr(repository, "CHUNK", 2)
    walked: list[str] = []
    for page in range(1, len(live) // 2 + 2):
        found = app.talents.search(me, specialty="天文", page=page, page_size=2)
        assert found["total"] == len(live)
        walked += [t["id"] for t in found["talents"]]
    assert walked == live
