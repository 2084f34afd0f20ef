"""Domain rules without a database: periods, deadlines on China's calendar, values, life cycle."""

from datetime import UTC, date, datetime

import pytest
from kepu_common.errors import Conflict, InvalidArgument, PermissionDenied
from kepu_reporting import domain, periods, report_types
from kepu_reporting.periods import Period, parse_period
from kepu_reporting.report_types import BUILTIN_BY_CODE

BRIEF = BUILTIN_BY_CODE["monthly_brief"]
SUMMARY = BUILTIN_BY_CODE["annual_summary"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-10", Period("month", 2026, 10)),
        ("2026Q3", Period("quarter", 2026, 3)),
        ("2026", Period("year", 2026)),
    ],
)
def test_periods_parse(text, expected):
    assert parse_period(text) == expected
    assert expected.code == text


@pytest.mark.parametrize(
    "text", ["2026-13", "2026Q5", "2026-00", "2026Q0", "26-10", "abc", "", "2026-1"]
)
def test_unknown_period_strings_are_refused_in_chinese(text):
    with pytest.raises(InvalidArgument, match="报告期"):
        parse_period(text)


def test_a_quarter_is_refused_for_a_monthly_brief():
    with pytest.raises(InvalidArgument, match="按月度报送"):
        parse_period("2026Q3", "month")


def test_a_future_period_is_refused_and_the_current_one_accepted():
    with pytest.raises(InvalidArgument, match="尚未开始"):
        periods.ensure_not_future(parse_period("2026-12"), date(2026, 11, 23))
    periods.ensure_not_future(parse_period("2026-11"), date(2026, 11, 23))


def test_monthly_deadlines_per_level_seed_000():
    october = parse_period("2026-10")
    assert BRIEF.deadline("township", october) == date(2026, 11, 3)
    assert BRIEF.deadline("society", october) == date(2026, 11, 3)
    assert BRIEF.deadline("county", october) == date(2026, 11, 4)
    assert BRIEF.deadline("city", october) == date(2026, 11, 5)
    assert BRIEF.deadline("province", october) is None


def test_a_deadline_on_national_day_moves_to_the_next_working_day():
    # 3 Oct 2026 falls in the National Day holiday (1-7 Oct); 8 Oct is the next working day.
    assert BRIEF.deadline("township", parse_period("2026-09")) == date(2026, 10, 8)
    # 3 May 2026 (Labour Day holiday, 1-5 May) -> 6 May
    assert BRIEF.deadline("township", parse_period("2026-04")) == date(2026, 5, 6)


def test_a_deadline_on_a_weekend_moves_to_monday_but_a_make_up_workday_stays():
    # 3 Jan 2027 is beyond the package's data: plain weekend rule (Sunday -> Monday 4 Jan).
    assert BRIEF.deadline("township", parse_period("2026-12")) == date(2027, 1, 4)
    # 5 Jul 2026 is a Sunday -> Monday 6 Jul for cities
    assert BRIEF.deadline("city", parse_period("2026-06")) == date(2026, 7, 6)
    assert periods.is_workday(date(2026, 10, 10))  # Saturday make-up working day


def test_annual_summary_by_15_december_for_townships_and_31_december_for_cities():
    year = parse_period("2026")
    assert SUMMARY.deadline("township", year) == date(2026, 12, 15)
    assert SUMMARY.deadline("city", year) == date(2026, 12, 31)


def test_timeliness_is_judged_on_the_shanghai_calendar():
    deadline = date(2026, 11, 3)
    assert periods.is_on_time(datetime(2026, 11, 3, 15, 59, tzinfo=UTC), deadline)  # 23:59 CST
    assert not periods.is_on_time(datetime(2026, 11, 3, 16, 1, tzinfo=UTC), deadline)  # 00:01 CST


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"trainees": -1}, "不能为负数"),
        ({"trainees": "三十"}, "必须填写数字"),
        ({"trainees": True}, "必须填写数字"),
        ({"nonsense": 1}, "没有名为"),
        ({"narrative": 5}, "必须填写文字"),
        ({"narrative": "好\x00"}, "空字符"),
        ({"narrative": {"a": {"b": {"c": "深"}}}}, "必须填写文字"),  # nesting: never stored
    ],
)
def test_bad_values_are_refused_in_chinese(values, message):
    with pytest.raises(InvalidArgument, match=message):
        report_types.clean_values(BRIEF, values)


def test_values_are_normalised():
    assert report_types.clean_values(BRIEF, {"trainees": 30.0, "narrative": "好"}) == {
        "trainees": 30,
        "narrative": "好",
    }


def test_life_cycle():
    domain.check_can_edit(domain.DRAFT)
    domain.check_can_edit(domain.RETURNED)
    with pytest.raises(Conflict, match="已提交"):
        domain.check_can_edit(domain.SUBMITTED)
    with pytest.raises(Conflict, match="已被上级接收"):
        domain.check_can_submit(domain.ACCEPTED)
    with pytest.raises(InvalidArgument, match="退回理由"):
        domain.check_can_review(domain.SUBMITTED, "return", " ")
    with pytest.raises(Conflict, match="只有已提交"):
        domain.check_can_review(domain.DRAFT, "accept")
    with pytest.raises(PermissionDenied):
        domain.check_role(frozenset({"viewer"}), "write")


def test_prefill_from_activities_and_children():
    acts = [domain.ActivityFacts("培训", 30), domain.ActivityFacts("讲座", 100)]
    values = domain.prefill(BRIEF, acts, {"activities": 3, "participants": 50, "resources": 2})
    assert values == {
        "training_sessions": 1,
        "trainees": 30,
        "activities": 5,
        "participants": 180,
        "resources": 2,
    }


def test_each_branch_counts_once_at_its_highest_submitted_brief():
    city, county, other = "410000.411300", "410000.411300.411303", "410000.411300.411302"
    town, society = county + ".411303001", county + ".411303S01"
    lone_town = other + ".411302001"
    got = domain.rollup_sources("410000", [town, lone_town, county, society])
    # the county stands for its area; 宛城 has not submitted, so its township counts itself
    assert got == {county: [town, society], lone_town: []}
    assert domain.rollup_sources("410000", [city, county, lone_town]) == {
        city: [lone_town, county]  # (in path order)
    }
    # the scope's own brief is never a source of the sums below it
    assert domain.rollup_sources(county, [town]) == {town: []}


def test_completeness_per_level_and_on_time_share_of_what_is_due():
    direct, levels, subtree = domain.tallies(
        [("county", True, 2, 1, 1), ("township", False, 3, 2, 1), ("society", True, 1, 0, 0)]
    )
    assert (direct.expected, direct.submitted, direct.label) == (3, 1, "直属下级")
    assert [(t.scope, t.label, t.expected, t.submitted) for t in levels] == [
        ("county", "县（区）", 2, 1),
        ("township", "乡镇（街道）", 3, 2),
        ("society", "学会", 1, 0),
    ]
    assert (subtree.expected, subtree.submitted, subtree.on_time) == (6, 3, 2)
    assert subtree.timeliness == 2 / 6  # of what is due, not of what was filed


def test_notices_before_and_after_a_deadline():
    d = date(2026, 11, 3)
    assert periods.due_notices(d, date(2026, 10, 30)) == []
    assert periods.due_notices(d, date(2026, 10, 31)) == ["reminder_3d"]
    assert periods.due_notices(d, date(2026, 11, 2)) == ["reminder_1d"]
    assert periods.due_notices(d, date(2026, 11, 4)) == ["overdue"]
    # 4, 5, 6 Nov are working days: three working days overdue on Friday 6 Nov
    assert periods.due_notices(d, date(2026, 11, 5)) == ["overdue"]
    assert periods.due_notices(d, date(2026, 11, 6)) == ["overdue", "escalation"]


def test_activity_validation():
    ok = domain.clean_activity(
        {
            "title": "科普讲座",
            "date": "2026-10-10",
            "form": "讲座",
            "target": "进校园",
            "participants": 80,
        },
        date(2026, 11, 1),
    )
    assert ok["participants"] == 80
    with pytest.raises(InvalidArgument, match="活动形式"):
        domain.clean_activity(
            {"title": "x", "date": "2026-10-10", "form": "跳舞", "target": "进校园"},
            date(2026, 11, 1),
        )
    with pytest.raises(InvalidArgument, match="不能为负数"):
        domain.clean_activity(
            {
                "title": "x",
                "date": "2026-10-10",
                "form": "讲座",
                "target": "进校园",
                "participants": -3,
            },
            date(2026, 11, 1),
        )
    with pytest.raises(InvalidArgument, match="不能晚于今天"):
        domain.clean_activity(
            {"title": "x", "date": "2026-12-10", "form": "讲座", "target": "进校园"},
            date(2026, 11, 1),
        )


def test_a_custom_type_is_validated():
    t = report_types.define_type(
        code="estation_check",
        name="e站检查",
        period_kind="quarter",
        fields=[{"key": "stations", "label": "e站", "kind": "number"}],
        due_rules={"county": {"month_offset": 1, "day": 10}},
        owner_path="410000.410800",
        owner_tenant_id="x",
    )
    assert t.deadline("county", parse_period("2026Q3")) == date(2026, 10, 10)
    assert t.applies_to("410000.410800.410802")
    assert not t.applies_to("410000.411300")
    with pytest.raises(InvalidArgument, match="内置类型"):
        report_types.define_type(
            code="monthly_brief",
            name="x",
            period_kind="month",
            fields=[],
            due_rules={},
            owner_path="410000",
            owner_tenant_id="x",
        )
