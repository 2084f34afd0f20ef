"""The review chain county → city → province as plain rules (no database)."""

import pytest
from kepu_common.errors import Conflict, InvalidArgument, PermissionDenied
from kepu_common.tenancy import Principal
from kepu_talent import domain
from kepu_talent.domain import Status

KINDS = {"410000.411300": "city", "410000.410900001": "society"}


def p(path: str, *roles: str) -> Principal:
    return Principal("sub", "u", "id", path, "", frozenset(roles or ("admin",)))


def chain(path: str = "410000.411300.411303", kind: str = "county") -> domain.Chain:
    return domain.build_chain(path, kind, KINDS)


def test_the_chain_of_a_county_talent():
    c = chain()
    assert (c.recommender_path, c.city_path, c.province_path) == (
        "410000.411300.411303",
        "410000.411300",
        "410000",
    )


def test_a_township_talent_is_recommended_by_its_county():
    c = chain("410000.411300.411303.411303001", "township")
    assert c.recommender_path == "410000.411300.411303"


def test_a_provincial_society_has_no_city_step():
    c = chain("410000.410900001", "society")
    assert c.city_path is None
    t = domain.review(Status.RECOMMENDED, c, p("410000"), "approve", "")
    assert t.to_status is Status.CERTIFIED


def test_the_full_chain():
    c = chain()
    t = domain.recommend(Status.DRAFT, c, p("410000.411300.411303"), "同意推荐")
    assert t.to_status is Status.RECOMMENDED
    t = domain.review(t.to_status, c, p("410000.411300", "reviewer"), "approve", "同意")
    assert t.to_status is Status.CITY_REVIEWED
    t = domain.review(t.to_status, c, p("410000"), "approve", "")
    assert t.to_status is Status.CERTIFIED and t.event_type == "talent.certified"


def test_the_province_cannot_skip_the_city_opinion():
    with pytest.raises(Conflict, match="省辖市科协"):
        domain.review(Status.RECOMMENDED, chain(), p("410000"), "approve", "")


def test_a_county_cannot_review():
    with pytest.raises(PermissionDenied):
        domain.review(Status.RECOMMENDED, chain(), p("410000.411300.411303"), "approve", "好")


def test_another_city_cannot_give_the_city_opinion():
    with pytest.raises(PermissionDenied):
        domain.review(Status.RECOMMENDED, chain(), p("410000.410200"), "approve", "同意")


def test_a_viewer_cannot_review():
    with pytest.raises(PermissionDenied, match="角色"):
        domain.review(Status.RECOMMENDED, chain(), p("410000.411300", "viewer"), "approve", "同意")


def test_a_rejection_needs_a_reason():
    with pytest.raises(InvalidArgument, match="理由"):
        domain.review(Status.CITY_REVIEWED, chain(), p("410000"), "reject", " ")


def test_a_draft_cannot_be_reviewed_and_a_certified_talent_not_recommended_again():
    with pytest.raises(Conflict, match="尚未推荐"):
        domain.review(Status.DRAFT, chain(), p("410000"), "approve", "")
    with pytest.raises(Conflict, match="只有草稿"):
        domain.recommend(Status.CERTIFIED, chain(), p("410000.411300.411303"), "再推荐")


def test_suspend_and_revoke_only_by_the_province():
    with pytest.raises(PermissionDenied):
        domain.change_lifecycle("suspend", Status.CERTIFIED, chain(), p("410000.411300"), "x")
    t = domain.change_lifecycle("suspend", Status.CERTIFIED, chain(), p("410000"), "违反规定")
    assert t.to_status is Status.SUSPENDED
    with pytest.raises(Conflict):
        domain.change_lifecycle("reinstate", Status.CERTIFIED, chain(), p("410000"), "恢复")


def test_quotas_default_and_override():
    assert domain.quota_for("county", None) == 100
    assert domain.quota_for("city", None) == 1000
    assert domain.quota_for("province", None) == 10000
    assert domain.quota_for("county", 150) == 150
    assert domain.quota_for("society", None) == 0


COUNTY, CITY, PROVINCE = "410000.411300.411303", "410000.411300", "410000"


def actions(status: Status, c: domain.Chain, path: str, *roles: str) -> list[str]:
    return domain.allowed_actions(status, c, p(path, *roles))


def test_allowed_actions_follow_the_chain_step_by_step():
    c = chain()
    assert actions(Status.DRAFT, c, COUNTY) == ["edit", "recommend"]
    assert actions(Status.DRAFT, c, CITY) == []
    assert actions(Status.RECOMMENDED, c, COUNTY) == []
    assert actions(Status.RECOMMENDED, c, CITY, "reviewer") == ["review"]
    assert actions(Status.RECOMMENDED, c, PROVINCE) == []  # the city speaks first
    assert actions(Status.CITY_REVIEWED, c, CITY) == []
    assert actions(Status.CITY_REVIEWED, c, PROVINCE) == ["review"]
    assert actions(Status.CERTIFIED, c, PROVINCE) == ["suspend", "revoke"]
    assert actions(Status.SUSPENDED, c, PROVINCE) == ["reinstate", "revoke"]
    assert actions(Status.REVOKED, c, PROVINCE) == []


def test_a_viewer_and_a_reporter_see_no_review_buttons():
    c = chain()
    assert actions(Status.DRAFT, c, COUNTY, "viewer") == []
    assert actions(Status.DRAFT, c, COUNTY, "reporter") == ["edit"]
    assert actions(Status.RECOMMENDED, c, CITY, "reporter") == []


def test_a_society_under_a_county_is_reviewed_by_its_city_then_the_province():
    society = "410000.411300.411303.s01"
    c = domain.build_chain(society, "society", {CITY: "city"})
    assert actions(Status.DRAFT, c, society) == ["edit", "recommend"]
    assert actions(Status.DRAFT, c, COUNTY) == []  # the county does not recommend for it
    assert actions(Status.RECOMMENDED, c, CITY) == ["review"]
    assert actions(Status.RECOMMENDED, c, PROVINCE) == []
