"""Partner access rules shared by every service that lends records to partners (SPEC 7).

A partner's client-credentials token (role ``partner``) opens only the partner API; staff
endpoints refuse it. Consent (PIPL art. 23) names a purpose and an expiry at most three years
ahead.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from .errors import InvalidArgument, PermissionDenied
from .tenancy import Principal
from .times import SHANGHAI

MAX_CONSENT_DAYS = 3 * 365 + 1


def require_staff(p: Principal) -> None:
    if "partner" in p.roles:
        raise PermissionDenied("合作机构的令牌只能访问 /partner/v1 接口。")


def require_partner(p: Principal, scope: str) -> None:
    if "partner" not in p.roles or not p.client_id:
        raise PermissionDenied("此接口只对合作机构开放（OAuth2 客户端凭据令牌）。")
    if scope not in p.scopes:
        raise PermissionDenied(f"令牌缺少权限 {scope}，请联系登记贵机构的科协开通。")


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
