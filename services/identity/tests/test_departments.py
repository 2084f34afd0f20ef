"""Member departments 成员单位 (issue 14): where they may be created and how they are coded."""

from __future__ import annotations

from kepu_identity import domain
from kepu_identity.domain import CHILD_KINDS


def test_a_department_sits_under_a_province_city_or_county_and_has_nothing_below():
    assert {k for k, kids in CHILD_KINDS.items() if "department" in kids} == {
        "province",
        "city",
        "county",
    }
    assert CHILD_KINDS["department"] == set()


def test_a_department_code_is_its_parent_code_with_d_and_a_number():
    assert domain.validate_child_code("department", "410400D01", "410400") is None
    assert "410400D01" in (domain.validate_child_code("department", "410400S01", "410400") or "")
    assert "开头" in (domain.validate_child_code("department", "411300D01", "410400") or "")
