"""Identity's partner consent policy (PIPL art. 23), which talent and projects apply when they
record a consent: a purpose, an expiry in the future and at most three years ahead, a date
meaning the end of that day in Beijing time."""

from datetime import UTC, datetime, timedelta

import pytest
from kepu_common.errors import InvalidArgument
from kepu_common.times import SHANGHAI
from kepu_identity.consent import consent_expiry, consent_purpose

NOW = datetime(2026, 12, 1, 16, 30, tzinfo=UTC)  # 2026-12-02 00:30 in Beijing


def test_a_date_ends_at_the_end_of_that_day_in_beijing():
    expires = consent_expiry("2027-06-30", NOW)
    assert expires == datetime(2027, 6, 30, 23, 59, 59, tzinfo=SHANGHAI)
    assert expires.astimezone(UTC).hour == 15


def test_a_time_without_offset_is_beijing_time_and_with_one_is_kept():
    assert consent_expiry("2027-01-01T09:00:00", NOW).utcoffset() == timedelta(hours=8)
    assert consent_expiry("2027-01-01T09:00:00+00:00", NOW).utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "请填写授权到期日期"),
        ("明年", "格式不正确"),
        ("2026-12-01", "必须晚于当前时间"),  # already over in Beijing (it is the 2nd there)
        ("2029-12-03", "最长3年"),
    ],
)
def test_an_expiry_out_of_policy_is_refused_on_its_field(value, message):
    with pytest.raises(InvalidArgument, match=message) as err:
        consent_expiry(value, NOW)
    assert [v.field for v in err.value.violations] == ["expires_at"]


def test_three_years_ahead_is_the_longest_term():
    assert consent_expiry("2029-12-01", NOW).year == 2029


@pytest.mark.parametrize("value", ["", "   ", "用途\x00", "长" * 501])
def test_a_purpose_is_one_to_500_plain_characters(value):
    with pytest.raises(InvalidArgument) as err:
        consent_purpose(value)
    assert [v.field for v in err.value.violations] == ["purpose"]


def test_a_purpose_is_kept_without_surrounding_blanks():
    assert consent_purpose("  银会合作融资服务 ") == "银会合作融资服务"
