"""The 推荐表 (seed 000 附件2): its field table and the rules of each field.

``FIELDS`` is the one table of the form: per field its key, Chinese label,
maximum length, validator, whether it is printed on the 推荐表 (.docx), its
column on the 汇总表 (xlsx) and whether it is personal data (encrypted at rest,
masked in lists). Validation (``clean_record``), the record view, the xlsx
columns, the .docx and the gateway's request schema all read it, so adding a
field touches this table, a migration and the proto.

Pure functions without I/O. Every check returns the cleaned value or raises
``FieldError`` with a Chinese message naming the field by its label, so a form,
an imported row and a gRPC request are all validated the same way.

Longer than ~400 lines on purpose: issue 9 asks for the one field table of the form, and
the table, the validators it names and the masks of its personal fields are read together
when a field is added; splitting them would put a field's rules in two places again.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from kepu_common import masking

GENDERS = ("男", "女")

# 民族: the 56 recognised ethnic groups, with and without the trailing 族.
ETHNIC_GROUPS = (
    "汉族",
    "蒙古族",
    "回族",
    "藏族",
    "维吾尔族",
    "苗族",
    "彝族",
    "壮族",
    "布依族",
    "朝鲜族",
    "满族",
    "侗族",
    "瑶族",
    "白族",
    "土家族",
    "哈尼族",
    "哈萨克族",
    "傣族",
    "黎族",
    "傈僳族",
    "佤族",
    "畲族",
    "高山族",
    "拉祜族",
    "水族",
    "东乡族",
    "纳西族",
    "景颇族",
    "柯尔克孜族",
    "土族",
    "达斡尔族",
    "仫佬族",
    "羌族",
    "布朗族",
    "撒拉族",
    "毛南族",
    "仡佬族",
    "锡伯族",
    "阿昌族",
    "普米族",
    "塔吉克族",
    "怒族",
    "乌孜别克族",
    "俄罗斯族",
    "鄂温克族",
    "德昂族",
    "保安族",
    "裕固族",
    "京族",
    "塔塔尔族",
    "独龙族",
    "鄂伦春族",
    "赫哲族",
    "门巴族",
    "珞巴族",
    "基诺族",
)

# 政治面貌 (GB/T 4762 names).
POLITICAL_STATUSES = (
    "中共党员",
    "中共预备党员",
    "共青团员",
    "民革党员",
    "民盟盟员",
    "民建会员",
    "民进会员",
    "农工党党员",
    "致公党党员",
    "九三学社社员",
    "台盟盟员",
    "无党派人士",
    "群众",
)
_POLITICAL_ALIASES = {"党员": "中共党员", "团员": "共青团员", "预备党员": "中共预备党员"}

# 学历.
EDUCATIONS = (
    "博士研究生",
    "硕士研究生",
    "大学本科",
    "大学专科",
    "中等专科",
    "高中",
    "中等职业教育",
    "初中",
    "小学",
    "其他",
)
_EDUCATION_ALIASES = {
    "博士": "博士研究生",
    "硕士": "硕士研究生",
    "研究生": "硕士研究生",
    "本科": "大学本科",
    "大专": "大学专科",
    "专科": "大学专科",
    "中专": "中等专科",
    "职高": "中等职业教育",
}

# 科普人才服务类别 (nine boxes of the form; several may be ticked).
SERVICE_CATEGORIES = (
    "青少年科普",
    "农村科普",
    "社区科普",
    "园区科普",
    "公务员科普",
    "服务双创",
    "服务精准扶贫",
    "科普创作",
    "其他",
)
_CATEGORY_ALIASES = {"双创": "服务双创", "精准扶贫": "服务精准扶贫", "创作": "科普创作"}
_CATEGORY_SPLIT = re.compile(r"[、,，;；/|\s]+")

MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
LANDLINE_RE = re.compile(r"^0\d{2,3}-?[2-9]\d{6,7}(-\d{1,6})?$")
EMAIL_RE = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")
QQ_RE = re.compile(r"^[1-9]\d{4,11}$")
WECHAT_RE = re.compile(r"^[A-Za-z][-_A-Za-z0-9]{5,19}$")
ID_RE = re.compile(r"^\d{17}[\dX]$")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


class FieldError(ValueError):
    """A bad value: ``field`` is the English key, ``message`` the Chinese explanation."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def normalize_text(value: object) -> str:
    """NFKC (full-width digits and letters become ASCII) and trimmed whitespace."""
    if value is None:
        return ""
    return unicodedata.normalize("NFKC", str(value)).strip()


def clean_name(value: object) -> str:
    name = re.sub(r"\s+", "", normalize_text(value))
    if not name:
        raise FieldError("name", f"{LABELS['name']}不能为空")
    return _within_limit(name, "name")


def clean_gender(value: object) -> str:
    gender = normalize_text(value)
    if gender not in GENDERS:
        raise FieldError("gender", f"{LABELS['gender']}应为“男”或“女”，实为“{gender}”")
    return gender


def clean_choice(
    value: object,
    field_key: str,
    label: str,
    choices: tuple[str, ...],
    aliases: dict[str, str] | None = None,
    *,
    required: bool = False,
) -> str:
    text = normalize_text(value)
    if not text:
        if required:
            raise FieldError(field_key, f"{label}不能为空")
        return ""
    text = (aliases or {}).get(text, text)
    if text in choices:
        return text
    raise FieldError(field_key, f"{label}“{text}”不在规定范围内")


def clean_ethnicity(value: object) -> str:
    text = normalize_text(value)
    if text and not text.endswith("族"):
        text += "族"
    return clean_choice(text, "ethnicity", LABELS["ethnicity"], ETHNIC_GROUPS)


def clean_political_status(value: object) -> str:
    return clean_choice(
        value,
        "political_status",
        LABELS["political_status"],
        POLITICAL_STATUSES,
        _POLITICAL_ALIASES,
    )


def clean_education(value: object) -> str:
    return clean_choice(value, "education", LABELS["education"], EDUCATIONS, _EDUCATION_ALIASES)


def clean_categories(value: object) -> list[str]:
    """Parse 服务类别: a list, or a cell such as “青少年科普、农村科普”."""
    items = (
        value if isinstance(value, list | tuple) else _CATEGORY_SPLIT.split(normalize_text(value))
    )
    result: list[str] = []
    for raw in items:
        item = normalize_text(raw).lstrip("■□☑√")
        if not item:
            continue
        item = _CATEGORY_ALIASES.get(item, item)
        if item not in SERVICE_CATEGORIES:
            raise FieldError(
                "categories",
                f"{BY_KEY['categories'].sheet_label}“{item}”不在九类之中（{'、'.join(SERVICE_CATEGORIES)}）",
            )
        if item not in result:
            result.append(item)
    if not result:
        raise FieldError("categories", f"请至少选择一个{BY_KEY['categories'].sheet_label}")
    return result


def clean_phone(value: object) -> str:
    """A mainland mobile (13812345678) or landline (0377-63073372) number."""
    text = normalize_text(value)
    text = re.sub(r"[\s()（）]", "", text).replace("—", "-").replace("－", "-")
    if text.startswith("+86"):
        text = text[3:]
    elif text.startswith("86") and len(text) == 13:
        text = text[2:]
    if not text:
        raise FieldError("phone", f"{LABELS['phone']}不能为空")
    if MOBILE_RE.match(text.replace("-", "")):
        return text.replace("-", "")
    if LANDLINE_RE.match(text):
        if "-" not in text:  # 区号 3 or 4 digits: 010/02x are three, the rest four
            cut = 3 if text[1] in "12" else 4
            text = text[:cut] + "-" + text[cut:]
        return text
    raise FieldError(
        "phone", f"{LABELS['phone']}“{text}”格式不正确（手机号11位，固话如0377-63073372）"
    )


def clean_email(value: object) -> str:
    text = normalize_text(value).lower()
    if text and not EMAIL_RE.match(text):
        raise FieldError("email", f"{LABELS['email']}“{text}”格式不正确")
    return text


def clean_im(value: object) -> str:
    """QQ号或微信号."""
    text = normalize_text(value)
    if text and not (QQ_RE.match(text) or WECHAT_RE.match(text)):
        raise FieldError("im_account", f"{LABELS['im_account']}“{text}”格式不正确")
    return text


def clean_id_number(value: object) -> str:
    """身份证号 (GB 11643, 18 characters with check digit); optional."""
    text = normalize_text(value).upper()
    if not text:
        return ""
    if not ID_RE.match(text):
        raise FieldError("id_number", f"{LABELS['id_number']}应为18位（最后一位可为X）")
    total = sum(int(d) * w for d, w in zip(text[:17], _ID_WEIGHTS, strict=True))
    if _ID_CHECK[total % 11] != text[17]:
        raise FieldError("id_number", f"{LABELS['id_number']}校验位不正确")
    try:
        date(int(text[6:10]), int(text[10:12]), int(text[12:14]))
    except ValueError:
        raise FieldError("id_number", f"{LABELS['id_number']}中的出生日期不正确") from None
    return text


def clean_birth_month(value: object, today: date | None = None) -> str:
    """出生年月 as ``YYYY-MM`` (accepts 1980-05, 1980.5, 1980年5月, a date)."""
    if isinstance(value, date):
        value = f"{value.year}-{value.month}"
    text = normalize_text(value)
    if not text:
        return ""
    m = re.match(r"^(\d{4})\s*[-./年]\s*(\d{1,2})\s*月?(?:[-./]?\d{1,2}日?)?$", text)
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise FieldError("birth_month", f"{LABELS['birth_month']}“{text}”格式不正确（如1980-05）")
    year, month = int(m.group(1)), int(m.group(2))
    today = today or date.today()
    if not today.year - 100 <= year <= today.year - 14:
        raise FieldError("birth_month", f"{LABELS['birth_month']}不在合理范围内")
    return f"{year:04d}-{month:02d}"


def age_from_birth_month(birth_month: str, today: date | None = None) -> int | None:
    if not birth_month:
        return None
    today = today or date.today()
    year, month = (int(p) for p in birth_month.split("-"))
    return today.year - year - (1 if today.month < month else 0)


def _within_limit(text: str, key: str) -> str:
    limit = BY_KEY[key].max_length
    if len(text) > limit:
        raise FieldError(key, f"{LABELS[key]}过长（不超过{limit}个字）")
    return text


def clean_short(value: object, key: str, *, required: bool = False) -> str:
    text = normalize_text(value)
    if required and not text:
        raise FieldError(key, f"{LABELS[key]}不能为空")
    return _within_limit(text, key)


def clean_long(value: object, key: str) -> str:
    return _within_limit(str(value or "").strip(), key)


@dataclass
class TalentFields:  # 推荐表的内容
    name: str
    gender: str
    phone: str
    employer: str
    categories: list[str]
    birth_month: str = ""
    ethnicity: str = ""
    political_status: str = ""
    education: str = ""
    industry: str = ""
    specialty: str = ""
    position: str = ""
    email: str = ""
    im_account: str = ""
    id_number: str = ""
    biography: str = ""
    experience: str = ""
    plan: str = ""
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Field:
    """One field of the 推荐表."""

    key: str  # the identifier in the proto, the table and the API
    label: str  # its Chinese label on the form, in messages and in the API schema
    max_length: int  # longest accepted input (items for a list)
    clean: Callable[[object], object]  # the cleaned value, or FieldError
    required: bool = False  # must be in an API request
    on_form: bool = True  # printed on the 推荐表 (.docx)
    sheet_column: int = 0  # its column on the 汇总表 (1 is 序号); 0: not on it
    sheet_header: str = ""  # the 汇总表's shorter header, when it differs from the label
    personal: bool = False  # encrypted at rest, masked in lists and exports
    multiple: bool = False  # a list of values (the service categories)
    hint: str = ""  # appended to the label in the API schema

    @property
    def sheet_label(self) -> str:
        return self.sheet_header or self.label


def _short(key: str, *, required: bool = False) -> Callable[[object], str]:
    return lambda value: clean_short(value, key, required=required)


def _long(key: str) -> Callable[[object], str]:
    return lambda value: clean_long(value, key)


# The 推荐表 in the order of the form.
FIELDS: tuple[Field, ...] = (
    Field("name", "姓名", 50, clean_name, required=True, sheet_column=3),
    Field("gender", "性别", 4, clean_gender, required=True, sheet_column=4, hint="：男 / 女"),
    # the form prints 年龄, computed from it
    Field("birth_month", "出生年月", 20, clean_birth_month, on_form=False, hint="，如 1980-05"),
    Field("ethnicity", "民族", 20, clean_ethnicity),
    Field("political_status", "政治面貌", 20, clean_political_status),
    Field("education", "学历", 20, clean_education),
    Field(
        "industry", "主要从事行业", 50, _short("industry"), sheet_column=8, sheet_header="从事行业"
    ),
    Field("specialty", "科普专长", 200, _short("specialty"), sheet_column=9),
    Field("employer", "工作单位", 100, _short("employer", required=True), sheet_column=5),
    Field("position", "职务（职称）", 50, _short("position"), sheet_column=6, sheet_header="职务"),
    Field(
        "phone",
        "联系电话",
        40,
        clean_phone,
        required=True,
        sheet_column=7,
        personal=True,
        hint="（手机或固话）",
    ),
    Field("email", "电子邮箱", 100, clean_email, personal=True),
    Field("im_account", "QQ号或微信号", 40, clean_im, personal=True),
    Field(
        "categories",
        "科普人才服务类别",
        len(SERVICE_CATEGORIES),
        clean_categories,
        required=True,
        sheet_column=2,
        sheet_header="服务类别",
        multiple=True,
        hint="（可多选）",
    ),
    Field("biography", "个人基本情况", 4000, _long("biography")),
    Field("experience", "科普工作经历", 4000, _long("experience")),
    Field("plan", "拟开展科普工作", 4000, _long("plan"), sheet_column=10),
    Field(
        "id_number",
        "身份证号",
        20,
        clean_id_number,
        on_form=False,
        personal=True,
        hint="（可选，用于查重）",
    ),
)
BY_KEY = {f.key: f for f in FIELDS}
LABELS = {f.key: f.label for f in FIELDS}
PERSONAL = tuple(f.key for f in FIELDS if f.personal)
SHEET_FIELDS = tuple(sorted((f for f in FIELDS if f.sheet_column), key=lambda f: f.sheet_column))


def clean_record(raw: dict[str, object]) -> tuple[TalentFields | None, list[FieldError]]:
    """Validate every field; returns the record or all the errors found."""
    errors: list[FieldError] = []
    out: dict[str, object] = {}
    for f in FIELDS:
        try:
            out[f.key] = f.clean(raw.get(f.key))
        except FieldError as exc:
            errors.append(exc)
    if errors:
        return None, errors
    return TalentFields(**out), []  # type: ignore[arg-type]


# --- masking: what lists and default views show -------------------------------------


def mask_email(email: str) -> str:
    if not email or "@" not in email:
        return ""
    local, domain = email.split("@", 1)
    return local[:1] + "***@" + domain


def mask_im(account: str) -> str:
    if not account:
        return ""
    return account[:2] + "****" + account[-2:] if len(account) > 4 else "****"


mask_id_number = masking.mask_id_number  # region and last 4; birth month hidden beside it


def name_phone_key(name: str, phone: str) -> str:
    """The normalised value whose keyed hash finds the same person twice."""
    return f"{clean_name(name)}|{phone.replace('-', '')}"
