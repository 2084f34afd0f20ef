"""Password policy and the division tree: plain rules, no database."""

import pytest
from hypothesis import given
from hypothesis import strategies as st
from kepu_common.errors import InvalidArgument
from kepu_identity import divisions, domain, passwords


@pytest.mark.parametrize(
    ("password", "reason"),
    [("Short1!", "长度"), ("alllowercase1", "三类"), ("Kx411300abc", None), ("kx411300AB!", None)],
)
def test_password_policy_explains_itself_in_chinese(password, reason):
    if reason is None:
        domain.check_policy(password, "kx411300")
    else:
        with pytest.raises(InvalidArgument, match=reason):
            domain.check_policy(password, "kx411300")


def test_password_may_not_equal_the_username():
    with pytest.raises(InvalidArgument, match="用户名"):
        domain.check_policy("Kx411300Aa", "kx411300aa")


def test_generated_initial_passwords_always_meet_the_policy():
    for _ in range(300):
        pw = domain.generate_initial_password()
        domain.check_policy(pw, "kx410000")
        assert not set(pw) & set("0O1lI")  # no look-alikes on a printed slip


@given(st.text(min_size=10, max_size=40))
def test_policy_never_accepts_fewer_than_three_classes(pw):
    if domain.classes(pw) < 3:
        with pytest.raises(InvalidArgument):
            domain.check_policy(pw, "someone")


def test_argon2id_hashes_verify_and_reject():
    h = passwords.hash_password("Kepu@Henan2026")
    assert h.startswith("$argon2id$")
    assert passwords.verify_password(h, "Kepu@Henan2026")
    assert not passwords.verify_password(h, "kepu@henan2026")


def test_henan_tree_has_the_province_18_cities_and_their_counties():
    tree = divisions.henan_tree()
    cities = [d for d in tree if d.kind == "city"]
    assert tree[0].code == "410000" and tree[0].name == "河南省"
    assert len(cities) == 18 and {"南阳市", "济源市", "郑州市"} <= {c.name for c in cities}
    wolong = next(d for d in tree if d.code == "411303")
    assert (wolong.name, wolong.kind, wolong.parent_code) == ("卧龙区", "county", "411300")
    assert not any(d.name == "市辖区" for d in tree)


@pytest.mark.parametrize(
    ("kind", "code", "parent", "ok"),
    [
        ("township", "411303001", "411303", True),
        ("township", "411302001", "411303", False),
        ("township", "4113030", "411303", False),
        ("society", "411300S01", "411300", True),
        ("society", "411300X1", "411300", False),
        ("county", "999999", "411300", False),
        ("province", "410000", "410000", False),
    ],
)
def test_child_codes_are_validated(kind, code, parent, ok):
    assert (domain.validate_child_code(kind, code, parent) is None) is ok
