"""The activity list's subtree total comes from ``activity_counts`` (migration 0008) and stays
equal to a live count for every scope and kind of period (all time, year, quarter, month),
through new activities and a deletion."""

from kepu_common.db import Scope
from kepu_reporting import service
from reporting_testkit import sh, system
from sqlalchemy import text

LIVE = (
    "SELECT count(*) FROM activities WHERE tenant_path <@ CAST(:p AS ltree)"
    " AND (CAST(:start AS date) IS NULL OR day BETWEEN :start AND :end)"
)
SCOPES = ("410000", "411300", "411303", "411302", "410200")
PERIODS = ("", "2026", "2025", "2026Q1", "2026Q2", "2026-10", "2026-03")


def test_the_subtree_total_equals_a_live_count_for_every_scope_and_period(db, tree, clock, act):
    from kepu_reporting import periods

    clock.set(sh(2026, 12, 1, 9))

    def totals() -> dict[tuple[str, str], tuple[int, int]]:
        out = {}
        for code in SCOPES:
            node = tree[code]
            for period in PERIODS:
                listed = act(node, service.activity_page, period, True, 1)[1]
                per = periods.parse_period(period) if period else None
                with system(db) as s:
                    live = s.execute(
                        text(LIVE),
                        {
                            "p": node.path,
                            "start": per.start if per else None,
                            "end": per.end if per else None,
                        },
                    ).scalar_one()
                out[code, period] = (listed, live)
        return out

    def exact() -> dict[tuple[str, str], int]:
        now = totals()
        assert all(listed == live for listed, live in now.values()), now
        return {key: listed for key, (listed, _) in now.items()}

    before = exact()
    for code, day in (("411303001", "2026-03-31"), ("411303001", "2026-04-01"),
                      ("411302001", "2026-10-10"), ("411303S01", "2025-12-31"),
                      ("411303S01", "2026-10-31")):  # fmt: skip
        body = {"title": "科普讲座", "date": day, "form": "讲座", "target": "进社区",
                "participants": 30}  # fmt: skip
        act(tree[code], service.create_activity, body)
    after = exact()
    assert after["410000", ""] == before["410000", ""] + 5
    assert after["411303", "2026Q1"] == before["411303", "2026Q1"] + 1
    assert after["411300", "2026-10"] == before["411300", "2026-10"] + 2
    assert after["411303", "2025"] == before["411303", "2025"] + 1
    assert after["410200", ""] == before["410200", ""]  # another city: none of them

    with db.unit_of_work(Scope.system_scope()) as s:
        s.execute(text("DELETE FROM activities WHERE day = '2026-10-31'"))
    assert exact()["411300", "2026-10"] == after["411300", "2026-10"] - 1
