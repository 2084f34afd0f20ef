"""Subtree sums (汇总) are a function of the submitted briefs only, whatever the order in
which the levels file, and say which briefs they include (issue 10)."""

import pytest
from kepu_reporting import service
from reporting_testkit import sh

BRIEF = "monthly_brief"


def brief(participants):
    return {"activities": 1, "participants": participants, "resources": 0}


@pytest.fixture(scope="module")
def filed(db, tree):
    """The same figures filed in two months, in opposite orders: 七一乡 20; 卧龙区 100 for its
    whole area (七一乡 included); 汉冶街道 70 under 宛城区, which files nothing."""
    from kepu_common.db import Scope
    from kepu_reporting.clock import FixedClock

    clock = FixedClock(sh(2026, 11, 1, 9))

    def submit(code, period, participants):
        node = tree[code]
        with db.unit_of_work(Scope.tenant(node.path)) as s:
            service.submit(s, node.principal("admin"), clock.now(), BRIEF, period,
                           brief(participants))  # fmt: skip

    # August: the township before its county; September: after it
    submit("411303001", "2026-08", 20)
    submit("411303", "2026-08", 100)
    submit("411303", "2026-09", 100)
    submit("411303001", "2026-09", 20)
    for period in ("2026-08", "2026-09"):
        submit("411302001", period, 70)
    return True


@pytest.mark.parametrize("period", ["2026-08", "2026-09"])
def test_the_city_total_does_not_depend_on_who_filed_first(tree, act, filed, period):
    ov = act(tree["411300"], service.children_overview, BRIEF, period)
    # 卧龙区's brief stands for its area; 宛城区 filed nothing, so 汉冶街道 counts itself
    assert ov.figures.sums["participants"] == 170
    assert [(x.tenant.name, x.covers) for x in ov.figures.sources] == [
        ("汉冶街道科协", 0),
        ("卧龙区科协", 1),
    ]
    assert ov.figures.briefs == 3
    # the same at the province, and in the city's own pre-filled brief
    assert (
        act(tree["410000"], service.children_overview, BRIEF, period).figures.sums["participants"]
        == 170
    )
    assert act(tree["411300"], service.get_report, BRIEF, period).values["participants"] == 170


def test_a_returned_county_brief_leaves_its_townships_figures(tree, act, filed):
    act(tree["411300"], service.review, BRIEF, "2026-09", tree["411303"].id, "return", "请核实")
    ov = act(tree["411300"], service.children_overview, BRIEF, "2026-09")
    assert ov.figures.sums["participants"] == 20 + 70
    assert {x.tenant.name for x in ov.figures.sources} == {"七一乡科协", "汉冶街道科协"}
