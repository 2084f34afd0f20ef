"""Domain rules without a database: scoring rules, ranking ties, honours, allocation, and the
锦州 10-item table (seed 002 附件2) expressed as a scheme."""

from __future__ import annotations

import pytest
from kepu_assessment import domain, scoring
from kepu_common.errors import InvalidArgument

# seed 002 附件2《科普中国·百城千校万村行动 锦州市工作考核指标》: 10 items, items 5-8 with
# sub-criteria; 7-1 carries the e-station coverage goals of the same notice (社区≥60%,
# 学校≥90%, 乡村≥30%).
JINZHOU = [
    {"code": "1", "name": "组织领导", "weight": 5, "kind": "manual",
     "requirement": "建立百千万行动领导小组，负责人由分管领导或主要管领导担任。"},
    {"code": "2", "name": "示范引领", "weight": 5, "kind": "manual",
     "requirement": "制定工作方案，围绕本方案有关要求制定具体目标，任务、指标、进度及落实措施。"},
    {"code": "3", "name": "经费投入", "weight": 5, "kind": "manual",
     "requirement": "研究制定统筹各类经费的措施，争取地方党委和政府支持，积极吸纳社会投入。"},
    {"code": "4", "name": "品牌推广", "weight": 5, "kind": "manual",
     "requirement": "各种渠道宣传“百千万行动”重要意义及“科普中国”品牌。"},
    {"code": "5", "name": "科普频道", "weight": 15, "combine": "at_least", "min_passed": 1,
     "requirement": "在以上三种方式中，实现一种或两种即认为合格。",
     "subs": [
         {"code": "5-1", "name": "广播电台科普频道", "weight": 15, "kind": "value",
          "rule": "threshold", "target": 3, "unit": "次/周"},
         {"code": "5-2", "name": "电视台科普频道", "weight": 15, "kind": "value",
          "rule": "threshold", "target": 3, "unit": "次/周"},
         {"code": "5-3", "name": "报刊科普专栏", "weight": 15, "kind": "value",
          "rule": "threshold", "target": 3, "unit": "篇/周"},
     ]},
    {"code": "6", "name": "传播体系", "weight": 10, "subs": [
        {"code": "6-1", "name": "科普信息员配备与认证", "weight": 5, "kind": "manual"},
        {"code": "6-2", "name": "信息员每日分享不少于3条", "weight": 5, "kind": "manual"},
    ]},
    {"code": "7", "name": "科普中国e站", "weight": 25, "subs": [
        {"code": "7-1", "name": "建设科普中国e站", "weight": 10, "subs": [
            {"code": "7-1-1", "name": "社区e站覆盖率", "weight": 4, "kind": "value",
             "rule": "linear", "target": 60, "unit": "%"},
            {"code": "7-1-2", "name": "学校e站覆盖率", "weight": 3, "kind": "value",
             "rule": "linear", "target": 90, "unit": "%"},
            {"code": "7-1-3", "name": "乡村e站覆盖率", "weight": 3, "kind": "value",
             "rule": "linear", "target": 30, "unit": "%"},
        ]},
        {"code": "7-2", "name": "e站科普活动每月不少于1次", "weight": 10, "kind": "automatic",
         "metric": "activities", "rule": "threshold", "target": 12},
        {"code": "7-3", "name": "大屏终端播放科普中国资源", "weight": 5, "kind": "manual"},
    ]},
    {"code": "8", "name": "传统科普设施", "weight": 10, "subs": [
        {"code": "8-1", "name": "利用现有科普设施传播", "weight": 5, "kind": "manual"},
        {"code": "8-2", "name": "宣传栏、图书角更新", "weight": 5, "kind": "manual"},
    ]},
    {"code": "9", "name": "线下活动", "weight": 10, "kind": "automatic",
     "metric": "participants", "rule": "linear", "target": 600},
    {"code": "10", "name": "创新模式", "weight": 10, "kind": "manual"},
]  # fmt: skip


def score(ind, facts=None, entries=None, targets=None):
    return scoring.score_indicator(ind, facts or {}, entries or {}, targets or {})


def test_jinzhou_table_is_expressible_as_a_scheme():
    inds = domain.build_indicators(JINZHOU)
    assert [i.code for i in inds] == [str(n) for n in range(1, 11)]
    leaves = [leaf.code for i in inds for leaf in i.leaves()]
    assert {"5-1", "5-2", "5-3", "6-1", "7-1-1", "7-2", "7-3", "8-2"} <= set(leaves)

    entries = {
        "1": domain.Entry(score=5, evidence="市科协主席任组长"),
        "5-2": domain.Entry(value=4),  # TV only: one channel is enough (一种即合格)
        "5-1": domain.Entry(value=1),
        "7-1-1": domain.Entry(value=60),
        "7-1-2": domain.Entry(value=45),  # half of the 90% goal
        "7-1-3": domain.Entry(value=30),
    }
    facts = {"activities": 12, "participants": 300}
    r = scoring.score_child("t", "凌河区", "county", "210703", inds, facts, entries, {})
    by = {s.indicator.code: s for s in r.scores}
    assert by["5"].score == 15 and by["5"].met
    assert by["7"].subs[0].score == 4 + 1.5 + 3
    assert by["7"].subs[1].score == 10
    assert by["9"].score == 5
    assert r.total == 5 + 15 + 8.5 + 10 + 5


def test_channel_item_scores_nothing_when_no_channel_qualifies():
    inds = domain.build_indicators(JINZHOU)
    ch = domain.find(inds, "5")
    assert score(ch, entries={"5-1": domain.Entry(value=2)}).score == 0


def test_linear_rule_is_capped_at_the_weight():
    ind = domain.build_indicator(
        {"code": "t", "name": "人才", "weight": 30, "kind": "automatic",
         "metric": "talents_certified", "target": 100}
    )  # fmt: skip
    assert score(ind, {"talents_certified": 50}).score == 15
    assert score(ind, {"talents_certified": 250}).score == 30
    # an allocated quota overrides the indicator's default target
    assert score(ind, {"talents_certified": 50}, targets={"t": 50}).score == 30


def test_threshold_rule_is_all_or_nothing():
    ind = domain.build_indicator(
        {"code": "s", "name": "公民科学素质比例", "weight": 10, "kind": "value",
         "rule": "threshold", "target": 9.38}
    )  # fmt: skip
    assert score(ind, entries={"s": domain.Entry(value=9.37)}).score == 0
    assert score(ind, entries={"s": domain.Entry(value=9.38)}).score == 10
    assert score(ind).score == 0  # nothing entered yet


def test_manual_score_must_lie_within_the_weight():
    ind = domain.build_indicator({"code": "m", "name": "组织领导", "weight": 5})
    assert domain.check_entry(ind, domain.Entry(score=5)).score == 5
    with pytest.raises(InvalidArgument, match="0到5分"):
        domain.check_entry(ind, domain.Entry(score=6))
    with pytest.raises(InvalidArgument, match="得分"):
        domain.check_entry(ind, domain.Entry(value=3))


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"weight": 25}, "分值之和应为100分，当前为95分"),
        ({"target": -1}, "不能为负数"),
        ({"kind": "automatic", "metric": "nonsense"}, "未知的自动采集数据项"),
        ({"code": "2"}, "指标编号重复"),
        ({"kind": "manual", "rule": "linear"}, "人工评分"),
    ],
)
def test_bad_schemes_are_refused_in_chinese(change, needle):
    items = [
        {"code": "1", "name": "甲", "weight": 30, "kind": "manual"},
        {"code": "2", "name": "乙", "weight": 70, "kind": "manual"},
    ]
    items[0] = {**items[0], **change}
    with pytest.raises(InvalidArgument, match=needle):
        domain.build_indicators(items)


def test_sub_indicator_weights_must_add_up():
    bad = {**JINZHOU[5], "subs": [{**JINZHOU[5]["subs"][0], "weight": 4}, JINZHOU[5]["subs"][1]]}
    with pytest.raises(InvalidArgument, match="子指标分值之和（9）应等于该指标分值（10）"):
        domain.build_indicator(bad)


def _result(code, total):
    return scoring.ChildResult(code, code, "city", code, total, [])


def test_ties_share_a_rank_and_the_next_rank_is_skipped():
    ranked = scoring.rank([_result("b", 80), _result("a", 90), _result("c", 90), _result("d", 70)])
    assert [(r.code, r.rank) for r in ranked] == [("a", 1), ("c", 1), ("b", 3), ("d", 4)]


def _honoured(ranked):
    return [r.code for r in ranked if r.honoured]


def test_seventeen_cities_tied_at_zero_share_second_place_and_are_not_honoured():
    ranked = scoring.rank([_result("a", 60)] + [_result(f"z{i:02d}", 0) for i in range(17)])
    assert [r.rank for r in ranked] == [1] + [2] * 17  # the competition rule
    got = scoring.mark_honours(ranked, top_n=3, min_score=0)
    assert _honoured(ranked) == ["a"]
    assert got.tie is None and "17个单位得分为0，不列入先进典型" in got.note
    all_zero = scoring.rank([_result(f"c{i:02d}", 0) for i in range(12)])
    scoring.mark_honours(all_zero, top_n=1, min_score=0)
    assert _honoured(all_zero) == []


def test_a_tie_across_the_boundary_waits_for_the_owner():
    ranked = scoring.rank([_result("a", 90), _result("b", 80), _result("c", 80), _result("d", 70)])
    got = scoring.mark_honours(ranked, top_n=2, min_score=0)
    assert _honoured(ranked) == ["a"]  # never more than N on its own
    assert got.tie is not None and (got.tie.rank, got.tie.seats) == (2, 1)
    assert got.tie.tenant_ids == ("b", "c")
    assert "第2名有2个单位并列（b、c），先进典型名额只余1个" in got.note
    # the owner picks one, or explicitly both
    pick = scoring.check_tie_choice(got.tie, ["c"])
    scoring.mark_honours(ranked, top_n=2, min_score=0, resolution=pick)
    assert _honoured(ranked) == ["a", "c"]
    both = scoring.check_tie_choice(got.tie, ["b", "c"])
    scoring.mark_honours(ranked, top_n=2, min_score=0, resolution=both)
    assert _honoured(ranked) == ["a", "b", "c"]
    with pytest.raises(InvalidArgument, match="不在并列单位之中"):
        scoring.check_tie_choice(got.tie, ["d"])
    # a choice made for another tie does not apply to this one
    stale = scoring.TieResolution(("b", "c", "d"), ("b",))
    assert scoring.mark_honours(ranked, 2, 0, stale).tie.chosen is None
    assert _honoured(ranked) == ["a"]


def test_the_score_line_is_a_floor_and_top_n_a_cap():
    ranked = scoring.rank([_result("a", 90), _result("b", 90), _result("c", 85), _result("d", 60)])
    scoring.mark_honours(ranked, top_n=0, min_score=85)
    assert _honoured(ranked) == ["a", "b", "c"]
    scoring.mark_honours(ranked, top_n=2, min_score=85)
    assert _honoured(ranked) == ["a", "b"]
    scoring.mark_honours(ranked, top_n=3, min_score=95)
    assert _honoured(ranked) == []
    scoring.mark_honours(ranked, top_n=0, min_score=0)
    assert _honoured(ranked) == []


def test_children_quotas_must_sum_to_at_least_the_parents():
    ind = domain.build_indicator(
        {"code": "1", "name": "人才", "weight": 30, "kind": "automatic",
         "metric": "talents_certified", "target": 100}
    )  # fmt: skip
    kids = {"a", "b"}
    assert domain.check_allocation(ind, 1000, {"a": 600, "b": 400}, kids) == 1000
    with pytest.raises(InvalidArgument, match="之和（900）少于本级任务指标（1000）"):
        domain.check_allocation(ind, 1000, {"a": 500, "b": 400}, kids)
    with pytest.raises(InvalidArgument, match="负数"):
        domain.check_allocation(ind, 0, {"a": -1}, kids)
    with pytest.raises(InvalidArgument, match="直属下级"):
        domain.check_allocation(ind, 0, {"x": 5}, kids)
