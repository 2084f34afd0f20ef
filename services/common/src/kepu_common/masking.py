"""Masks of personal data in lists and exports (rule 10): recognisable, never rebuildable."""

from __future__ import annotations


def mask_phone(phone: str) -> str:
    """What lists show, recognisable but not usable: 138****5678 for a mobile, 0377-****3372
    for a landline (area code and the last four digits, no extension), ****3372 without an
    area code."""
    if not phone:
        return ""
    if len(phone) == 11 and phone.isdigit() and phone.startswith("1"):
        return f"{phone[:3]}****{phone[-4:]}"
    parts = phone.split("-")
    if not phone.startswith("0"):
        return f"****{parts[0][-4:]}"
    if len(parts[0]) <= 4:  # 0377-63073372[-801]
        area, number = parts[0], parts[1] if len(parts) > 1 else ""
    else:  # 037763073372[-801]: 010 and 02x are the three-digit area codes, the rest have four
        cut = 3 if phone[1:2] in ("1", "2") else 4
        area, number = parts[0][:cut], parts[0][cut:]
    return f"{area}-****{number[-4:]}"


def mask_id_number(number: str) -> str:
    """An identity card number keeps its region (the first 6 digits) and the last 4: the
    birth date between them is hidden, and so must be the birth month wherever this mask is
    shown (with it and the check digit the number could be rebuilt from a few candidates)."""
    if not number:
        return ""
    if len(number) < 12:
        return "*" * len(number)
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


MASKED_BIRTH_MONTH = "****-**"


def mask_birth_month(birth_month: str) -> str:
    """The birth month beside a masked identity card number."""
    return MASKED_BIRTH_MONTH if birth_month else ""
