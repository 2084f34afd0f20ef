"""The partner consent policy 个人信息授权 (PIPL art. 23, SPEC 7). Identity registers the
partners and owns what a consent must say; talent and projects apply these rules when they
record a consent in their ledgers (``kepu_common.consent.ConsentLedger``). Pure rules, no I/O.

- A consent names its purpose (1 to 500 characters of plain text).
- It ends in the future and at most three years ahead; a bare date means the end of that
  day, Beijing time.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from kepu_common.errors import InvalidArgument
from kepu_common.times import SHANGHAI

MAX_CONSENT_DAYS = 3 * 365 + 1
MAX_PURPOSE = 500


def consent_purpose(value: str) -> str:
    """The purpose a consent is given for, stripped."""
    purpose = (value or "").strip()
    if not purpose:
        raise InvalidArgument("请填写授权用途，例如“银会合作融资服务”。", field="purpose")
    if "\x00" in purpose:
        raise InvalidArgument("授权用途含有不可见的控制字符。", field="purpose")
    try:
        purpose.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidArgument("授权用途含有无法识别的字符。", field="purpose") from None
    if len(purpose) > MAX_PURPOSE:
        raise InvalidArgument("授权用途过长（不超过500字）。", field="purpose")
    return purpose


def consent_expiry(value: str, now: datetime) -> datetime:
    """``YYYY-MM-DD`` (end of that day, Beijing time) or RFC 3339; future, at most 3 years."""
    raw = (value or "").strip()
    if not raw:
        raise InvalidArgument("请填写授权到期日期。", field="expires_at")
    try:
        if len(raw) == 10:
            expires = datetime.combine(date.fromisoformat(raw), time(23, 59, 59), SHANGHAI)
        else:
            expires = datetime.fromisoformat(raw)
            if expires.tzinfo is None:
                expires = expires.replace(tzinfo=SHANGHAI)
    except ValueError:
        raise InvalidArgument(
            "授权到期日期格式不正确，应为 YYYY-MM-DD。", field="expires_at"
        ) from None
    if expires <= now:
        raise InvalidArgument("授权到期日期必须晚于当前时间。", field="expires_at")
    if expires > now + timedelta(days=MAX_CONSENT_DAYS):
        raise InvalidArgument("授权期限最长3年，请缩短到期日期。", field="expires_at")
    return expires
