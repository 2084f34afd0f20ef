"""The full month of seed 000 on the real database: townships and societies file and submit
(one late), the county returns one and accepts the rest, its pre-filled brief goes to the
city, the city's to the province, and the province sees completeness, timeliness and sums."""

import io

import pytest
from docx import Document
from kepu_common.errors import Conflict
from kepu_reporting import service
from reporting_testkit import outbox_types, sh, system
from sqlalchemy import text

BRIEF, OCT = "monthly_brief", "2026-10"


def activity(title, day, form, participants, target="进乡村"):
    return {
        "title": title,
        "date": day,
        "place": "村委会",
        "form": form,
        "target": target,
        "participants": participants,
        "talents": ["张三"],
        "photos": [],
    }


def test_the_full_month(db, tree, clock, act):
    t1, t2, soc, t3 = tree["411303001"], tree["411303002"], tree["411303S01"], tree["411302001"]
    wolong, wancheng, nanyang = tree["411303"], tree["411302"], tree["411300"]
    province = tree["410000"]

    # October: the townships record their activities (在线科普活动)
    clock.set(sh(2026, 10, 20, 10))
    act(t1, service.create_activity, activity("果树修剪技术培训", "2026-10-10", "培训", 30))
    act(t1, service.create_activity, activity("防灾减灾科普讲座", "2026-10-20", "讲座", 100))
    act(
        t2, service.create_activity, activity("科普展览进校园", "2026-10-15", "展览", 200, "进校园")
    )
    act(t3, service.create_activity, activity("社区健康咨询", "2026-10-18", "咨询", 40, "进社区"))

    # 2 Nov: 七一乡 opens its brief, pre-filled from the month's activities, completes and submits
    clock.set(sh(2026, 11, 2, 9))
    view = act(t1, service.get_report, BRIEF, OCT)
    assert view.prefilled
    assert view.status == "none"
    assert view.values == {
        "training_sessions": 1,
        "trainees": 30,
        "activities": 2,
        "participants": 130,
        "resources": 0,
    }
    act(
        t1,
        service.save_draft,
        BRIEF,
        OCT,
        {**view.values, "resources": 2, "narrative": "开展果树修剪培训和防灾讲座。"},
    )
    sub = act(t1, service.submit, BRIEF, OCT)
    assert sub.status == "submitted"
    assert sub.report.on_time

    # 蒲山镇 submits at 23:30 on the 3rd (Shanghai time): still on time
    clock.set(sh(2026, 11, 3, 23, 30))
    act(
        t2,
        service.submit,
        BRIEF,
        OCT,
        {"activities": 1, "participants": 200, "resources": 1, "narrative": "科普展览进校园。"},
    )
    act(t3, service.submit, BRIEF, OCT)  # 汉冶街道 submits its pre-filled brief as is

    # 4 Nov: the county returns 蒲山镇's brief with a reason; 蒲山镇 corrects and resubmits
    clock.set(sh(2026, 11, 4, 9))
    returned = act(wolong, service.review, BRIEF, OCT, t2.id, "return", "参与人次与活动记录不符")
    assert returned.status == "returned"
    again = act(t2, service.get_report, BRIEF, OCT)
    assert again.report.return_reason == "参与人次与活动记录不符"
    act(t2, service.save_draft, BRIEF, OCT, {**again.values, "participants": 180})
    resub = act(t2, service.submit, BRIEF, OCT)
    assert resub.report.on_time  # judged at the first submission

    # the society files late (deadline 3 Nov)
    clock.set(sh(2026, 11, 5, 10))
    late = act(
        soc,
        service.submit,
        BRIEF,
        OCT,
        {"training_sessions": 2, "trainees": 60, "activities": 2, "participants": 60},
    )
    assert late.report.on_time is False

    for child in (t1, t2, soc):
        assert act(wolong, service.review, BRIEF, OCT, child.id, "accept").status == "accepted"
    with pytest.raises(Conflict, match="已被上级接收"):
        act(t1, service.submit, BRIEF, OCT)

    # the county's brief is pre-filled from its children: 七一乡 + 蒲山镇 + 农学会
    county_view = act(wolong, service.get_report, BRIEF, OCT)
    assert county_view.prefilled
    assert county_view.values == {
        "training_sessions": 3,
        "trainees": 90,
        "activities": 5,
        "participants": 370,
        "resources": 3,
    }
    clock.set(sh(2026, 11, 5, 11))
    county = act(wolong, service.submit, BRIEF, OCT)
    assert county.report.on_time is False  # county deadline 4 Nov
    clock.set(sh(2026, 11, 4, 16))  # (the other county is on time)
    act(wancheng, service.submit, BRIEF, OCT)

    # the city adds one activity of its own and submits its pre-filled brief on the 5th
    clock.set(sh(2026, 11, 5, 15))
    act(
        nanyang,
        service.create_activity,
        activity("市级科普报告会", "2026-10-28", "报告", 500, "进机关"),
    )
    city_view = act(nanyang, service.get_report, BRIEF, OCT)
    assert city_view.values["participants"] == 370 + 40 + 500
    assert city_view.values["activities"] == 5 + 1 + 1
    city = act(nanyang, service.submit, BRIEF, OCT)
    assert city.report.on_time

    # Monday 9 Nov: the province looks at the month (开封 has not reported)
    clock.set(sh(2026, 11, 9, 9))
    ov = act(province, service.children_overview, BRIEF, OCT)
    statuses = {
        c.row.tenant.name: (c.row.report.status if c.row.report else "none", c.overdue)
        for c in ov.children
    }
    assert statuses == {"南阳市科协": ("submitted", False), "开封市科协": ("none", True)}
    # completeness of the list beside it: the two cities
    assert (ov.direct.expected, ov.direct.submitted, ov.direct.on_time) == (2, 1, 1)
    assert ov.completeness == pytest.approx(1 / 2)
    # and of the whole subtree by level: 2 cities, 2 counties, 3 townships, 1 society
    assert [(t.label, t.expected, t.submitted, t.on_time) for t in ov.levels] == [
        ("市", 2, 1, 1),
        ("县（区）", 2, 2, 1),
        ("乡镇（街道）", 3, 3, 3),
        ("学会", 1, 1, 0),
    ]
    assert (ov.subtree.expected, ov.subtree.submitted, ov.subtree.on_time) == (8, 7, 5)
    assert ov.subtree.timeliness == pytest.approx(5 / 8)  # on time of what was due
    # each figure counted once: 南阳's brief stands for its area and covers the six below it
    assert [(x.tenant.name, x.covers) for x in ov.figures.sources] == [("南阳市科协", 6)]
    assert ov.figures.briefs == 7
    assert ov.figures.sums == {
        "training_sessions": 3,
        "trainees": 90,
        "activities": 7,
        "participants": 910,
        "resources": 3,
    }
    assert [t.name for t, _d, _n in ov.overdue] == ["开封市科协"]
    # the county sees only its own subtree
    ov_county = act(wolong, service.children_overview, BRIEF, OCT)
    assert (ov_county.direct.expected, ov_county.direct.submitted) == (3, 3)
    assert ov_county.figures.sums["participants"] == 370

    # the province's 工作简报 as .docx
    from kepu_reporting import docx as render

    view = act(province, service.get_report, BRIEF, OCT)
    body = render.render(view, ov, clock.now())
    text_all = "\n".join(p.text for p in Document(io.BytesIO(body)).paragraphs)
    assert "河南省科协“百千万科普工程”工作简报" in text_all
    assert "直属下级应报 2 个，已报 1 个，报送率 50.0%" in text_all
    assert "乡镇（街道）应报 3 个、已报 3 个（100.0%）" in text_all
    assert "下级汇总含 7 份已报送的简报（按 1 份计入：南阳市科协）" in text_all
    assert "开封市科协" in text_all  # overdue

    with system(db) as s:
        types = outbox_types(s)
        n_acts = s.execute(text("SELECT count(*) FROM activities")).scalar()
    assert types.count("reporting.report.submitted") == 8  # incl. the resubmission
    assert types.count("reporting.report.returned") == 1
    assert types.count("reporting.report.accepted") == 3
    assert types.count("reporting.activity.recorded") == n_acts == 5
