"""The rules of the 入库表, the review chain, expert ranking and 考核 without a database."""

import base64
import os
from decimal import Decimal

import pytest
from kepu_common.errors import Conflict, InvalidArgument, PermissionDenied
from kepu_common.masking import mask_phone
from kepu_projects import domain, expert_review
from kepu_projects.crypto import DEV_KEY, KeyRing
from projects_testkit import form, sh


def test_a_complete_form_is_cleaned():
    f = domain.clean_form(form(category="科普设施建设", start_month="2026-3", budget="1234.5"))
    assert (f.category, f.start_month, f.end_month) == ("facility", "2026-03", "2026-11")
    assert f.budget == Decimal("1234.50")
    assert domain.clean_form(form(budget="")).budget is None


@pytest.mark.parametrize(
    ("over", "needle"),
    [
        ({"start_month": "2026-11", "end_month": "2026-03"}, "不能早于"),
        ({"start_month": "2026-13"}, "有效的年月"),
        ({"end_month": "明年"}, "年-月"),
        ({"budget": "-1"}, "负数"),
        ({"budget": "很多"}, "数字"),
        ({"budget": "NaN"}, "数字"),
        ({"category": "科普讲座"}, "项目类别"),
        ({"name": " "}, "项目名称"),
        ({"contact_phone": "12345"}, "联系电话"),
        ({"call_id": "not-a-uuid"}, "申报批次"),
        ({"content": "内容\x00"}, "控制字符"),
    ],
)
def test_bad_forms_are_refused_in_chinese(over, needle):
    with pytest.raises(InvalidArgument) as err:
        domain.clean_form(form(**over))
    assert needle in err.value.detail


def test_phones_are_masked():
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("0372-5951234").endswith("1234")
    assert "595" not in mask_phone("0372-5951234")
    assert mask_phone("0372-5951234") == "0372-****1234"
    assert mask_phone("02163073372-12") == "021-****3372"
    assert mask_phone("5951234") == "****1234"


def test_a_call_needs_a_future_deadline_and_positive_weights():
    now = sh(2026, 3, 1, 9)
    spec = domain.clean_call(
        {"title": "2026年科普示范社区", "programme": "科普示范社区", "deadline": "2026-04-30"}, now
    )
    assert spec.deadline == sh(2026, 4, 30, 23, 59, 59)
    assert spec.criteria == domain.DEFAULT_CRITERIA and spec.quota is None
    with pytest.raises(InvalidArgument, match="晚于当前"):
        domain.clean_call({"title": "x", "programme": "y", "deadline": "2026-02-28"}, now)
    with pytest.raises(InvalidArgument, match="权重"):
        domain.clean_call(
            {
                "title": "x",
                "programme": "y",
                "deadline": "2026-04-30",
                "criteria": [{"name": "创新性", "weight": 0}],
            },
            now,
        )


def test_late_filing_is_a_conflict_with_the_deadline_in_beijing_time():
    with pytest.raises(Conflict) as err:
        domain.check_call_open(sh(2026, 4, 30, 17), sh(2026, 4, 30, 17, 1), "讲坛")
    assert "2026年04月30日 17:00" in err.value.detail
    domain.check_call_open(sh(2026, 4, 30, 17), sh(2026, 4, 30, 17), "讲坛")


def test_the_chain_climbs_to_the_call_owner_then_opens_expert_review():
    step = dict(status=domain.SUBMITTED, call_owner_path="410000", decision="pass", opinion="")
    out = domain.review_step(
        **step, awaiting_path="410000.410500.410502", reviewer_path="410000.410500.410502"
    )
    assert out == domain.ReviewOutcome(domain.SUBMITTED, "410000.410500")
    out = domain.review_step(**step, awaiting_path="410000", reviewer_path="410000")
    assert out.status == domain.EXPERT_REVIEW
    with pytest.raises(PermissionDenied):
        domain.review_step(**step, awaiting_path="410000.410500", reviewer_path="410000")
    with pytest.raises(InvalidArgument, match="理由"):
        domain.review_step(
            **{**step, "decision": "fail"}, awaiting_path="410000", reviewer_path="410000"
        )
    with pytest.raises(Conflict):
        domain.review_step(
            **{**step, "status": domain.APPROVED}, awaiting_path=None, reviewer_path="410000"
        )


def test_weighted_totals_mean_spread_and_ranking():
    criteria = (("科学性", 40.0), ("创新性", 60.0))
    assert expert_review.weighted_total(criteria, {"科学性": 90, "创新性": 80}) == 84.0
    with pytest.raises(InvalidArgument, match="0到100"):
        expert_review.weighted_total(criteria, {"科学性": 101, "创新性": 80})
    with pytest.raises(InvalidArgument, match="缺少"):
        expert_review.weighted_total(criteria, {"科学性": 90})
    with pytest.raises(InvalidArgument, match="不属于"):
        expert_review.weighted_total(criteria, {"科学性": 90, "创新性": 80, "美观": 1})
    a = expert_review.Candidate("a", domain.EXPERT_REVIEW, sh(2026, 3, 2), (80.0, 90.0))  # 85 ± 5
    b = expert_review.Candidate("b", domain.EXPERT_REVIEW, sh(2026, 3, 3), (85.0, 85.0))  # 85 ± 0
    c = expert_review.Candidate("c", domain.EXPERT_REVIEW, sh(2026, 3, 1), (70.0, 95.0, 92.0))
    d = expert_review.Candidate(
        "d", domain.EXPERT_REVIEW, sh(2026, 3, 1), (99.0,)
    )  # too few experts
    ranked = expert_review.rank([a, b, c, d], min_reviewers=2)
    assert [r.candidate.project_id for r in ranked] == ["d", "c", "b", "a"]
    by = {r.candidate.project_id: r for r in ranked}
    assert (by["c"].mean, by["c"].spread) == (85.67, 11.15)
    assert (by["a"].mean, by["a"].spread, by["b"].spread) == (85.0, 5.0, 0.0)
    assert [r.eligible for r in ranked] == [False, True, True, True]


def test_selection_respects_the_quota():
    cands = [
        expert_review.Candidate(str(i), domain.EXPERT_REVIEW, None, (float(90 - i), float(90 - i)))
        for i in range(5)
    ]
    ranked = expert_review.rank(cands, 1)
    sel = expert_review.select_top(ranked, top_n=0, quota=3, already_approved=1, reject_others=True)
    assert [r.candidate.project_id for r in sel.approved] == ["0", "1"]
    assert [r.candidate.project_id for r in sel.rejected] == ["2", "3", "4"]
    with pytest.raises(Conflict, match="剩余名额"):
        expert_review.select_top(ranked, top_n=3, quota=3, already_approved=1, reject_others=False)
    with pytest.raises(Conflict, match="已满"):
        expert_review.select_top(ranked, top_n=1, quota=2, already_approved=2, reject_others=False)
    with pytest.raises(InvalidArgument, match="不限名额"):
        expert_review.select_top(
            ranked, top_n=0, quota=None, already_approved=0, reject_others=False
        )


def test_lifecycle_order_and_grades():
    with pytest.raises(Conflict, match="先报送"):
        domain.check_can_complete(domain.APPROVED)
    with pytest.raises(Conflict):
        domain.check_can_report_progress(domain.SUBMITTED)
    with pytest.raises(Conflict, match="结项后"):
        domain.evaluate(domain.IN_PROGRESS, 80)
    with pytest.raises(InvalidArgument):
        domain.evaluate(domain.COMPLETED, 100.5)
    assert domain.evaluate(domain.COMPLETED, 90) == (domain.EVALUATED, "优秀")
    assert [domain.grade_for(x) for x in (89.9, 75, 60, 59.99)] == [
        "良好",
        "良好",
        "合格",
        "不合格",
    ]


def test_sealed_phone_opens_only_for_its_record_and_survives_key_rotation():
    old = KeyRing.from_config()
    sealed = old.seal("13812345678", "project:a:contact_phone")
    assert sealed is not None and b"13812345678" not in sealed
    with pytest.raises(ValueError, match="does not belong"):
        old.open(sealed, "project:b:contact_phone")
    new_key = base64.b64encode(os.urandom(32)).decode()
    rotated = KeyRing.from_config(f"1:{DEV_KEY},2:{new_key}")
    assert rotated.open(sealed, "project:a:contact_phone") == "13812345678"
    assert rotated.seal("x", "c")[1:3] == b"\x00\x02"


def standing(status: str, *, own: bool = False, awaiting: str | None = None) -> domain.Standing:
    return domain.Standing(
        status=status,
        call_id="c1",
        awaiting_path=awaiting,
        call_owner_path="410000.410500",
        own=own,
        same_tenant_path=own,
    )


def test_allowed_actions_follow_the_project_from_draft_to_award():
    county, city, admin = "410000.410500.410502", "410000.410500", ("admin",)
    assert domain.allowed_actions(standing("draft", own=True), county, admin) == ["edit", "submit"]
    assert domain.allowed_actions(standing("draft", own=True), county, ("viewer",)) == []
    waiting = standing("submitted", awaiting=city)
    assert domain.allowed_actions(waiting, city, ("reviewer",)) == ["review"]
    assert domain.allowed_actions(waiting, "410000", admin) == []
    assert domain.allowed_actions(standing("expert_review"), city, admin) == ["review"]
    assert domain.allowed_actions(standing("returned", own=True), county, admin) == [
        "edit",
        "submit",
    ]
    approved = standing("approved", own=True)
    assert domain.allowed_actions(approved, county, admin) == ["report_progress"]
    assert domain.allowed_actions(standing("approved"), city, admin) == ["flag_award"]
    done = standing("completed", own=True)
    assert domain.allowed_actions(done, county, admin) == []
    assert domain.allowed_actions(standing("completed"), city, ("reviewer",)) == ["evaluate"]
