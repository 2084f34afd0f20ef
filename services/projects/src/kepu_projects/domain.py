"""Rules of the key project library 重点项目库 (SPEC section 4), no I/O.

The record is the 入库表 (seed 000 附表3); calls (申报批次) are opened by an upper level for
a programme (seed 001); the lifecycle is draft → submitted → reviewed up the chain → expert
review → approved (入库/立项) or rejected → in progress → completed → evaluated (考核).

Longer than ~400 lines on purpose: the 入库表, the call it is filed under and the life cycle
are one record's rules; they share the statuses, roles and field checks at the top, and
``allowed_actions`` puts each action through the very checks the use cases make, so they read
best side by side. The seams that stand alone have their own modules: ``expert_review``
(scores, ranking, selection within the quota), ``bases/`` and ``resources/``.
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

from kepu_common.errors import Conflict, DomainError, InvalidArgument, PermissionDenied
from kepu_common.times import SHANGHAI

from .bases.domain import FUNDING, CallOutcome, clean_outcome

SH = SHANGHAI  # the users' zone

# 项目类别 (附表3)
CATEGORY_CN = {
    "activity": "科普活动",
    "creation": "科普创作",
    "facility": "科普设施建设",
    "other": "其他",
}
_CATEGORY_BY_LABEL = {v: k for k, v in CATEGORY_CN.items()}

# 专项 of seed 001 (一总多分); free text is allowed too.
PROGRAMMES = (
    "现代农业科普园",
    "科普示范社区",
    "农村中学科技馆",
    "i科普科技志愿服务",
    "中原科普讲坛",
    "科普教育基地",
)

DEFAULT_CRITERIA = (("科学性", 30.0), ("创新性", 25.0), ("可行性", 25.0), ("预期绩效", 20.0))

# Lifecycle states
DRAFT = "draft"
SUBMITTED = "submitted"  # waiting for the opinion of the level in ``awaiting_path``
RETURNED = "returned"  # 退回修改: a level sent it back with a reason; the applicant edits
EXPERT_REVIEW = "expert_review"
APPROVED = "approved"  # 入库/立项
REJECTED = "rejected"
IN_PROGRESS = "in_progress"
COMPLETED = "completed"
EVALUATED = "evaluated"

STATUS_CN = {
    DRAFT: "草稿",
    SUBMITTED: "已申报（逐级审核中）",
    RETURNED: "已退回修改",
    EXPERT_REVIEW: "专家评审中",
    APPROVED: "已入库立项",
    REJECTED: "未通过",
    IN_PROGRESS: "实施中",
    COMPLETED: "已完成",
    EVALUATED: "已考核",
}
STATUSES = tuple(STATUS_CN)

# The project list's sort keys (the column shown under that label) and directions.
SORT_CN = {
    "updated_at": "更新时间",
    "submitted_at": "申报时间",
    "created_at": "填报时间",
    "name": "项目名称",
    "status": "状态",
    "category": "项目类别",
    "budget": "项目预算",
    "tenant_name": "申报单位",
}
ORDERS = ("asc", "desc")
LIBRARY_STATES = (APPROVED, IN_PROGRESS, COMPLETED, EVALUATED)

PASS, FAIL, RETURN = "pass", "fail", "return"
DECISION_CN = {PASS: "通过", FAIL: "不通过", RETURN: "退回修改"}

WRITE_ROLES = frozenset({"admin", "reporter"})
REVIEW_ROLES = frozenset({"admin", "reviewer"})
ADMIN_ROLES = frozenset({"admin"})

_MONTH_RE = re.compile(r"^(\d{4})-(\d{1,2})$")
_PHONE_RE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8}(-\d{1,6})?|\d{7,8})$")


# ---------------------------------------------------------------- helpers


def check_role(roles: Iterable[str], allowed: frozenset[str], action_cn: str) -> None:
    if not allowed & set(roles):
        raise PermissionDenied(f"当前账号没有{action_cn}的权限。")


def check_uuid(value: str, what: str) -> str:
    try:
        return str(uuid.UUID(value))
    except (ValueError, AttributeError, TypeError):
        raise InvalidArgument(f"{what}编号格式不正确。") from None


def parent_path(path: str) -> str | None:
    return path.rsplit(".", 1)[0] if "." in path else None


def is_proper_ancestor(ancestor: str, path: str) -> bool:
    return path.startswith(ancestor + ".")


def plain(value: str, label: str, field: str = "") -> str:
    """Text the database can store: no NUL characters, valid UTF-8."""
    if "\x00" in value:
        raise InvalidArgument(f"{label}含有不可见的控制字符。", field=field)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidArgument(f"{label}含有无法识别的字符。", field=field) from None
    return value


def _text(data: Mapping[str, Any], key: str, label: str, *, limit: int, required: bool) -> str:
    value = plain(str(data.get(key) or "").strip(), label, key)
    if required and not value:
        raise InvalidArgument(f"请填写{label}。", field=key)
    if len(value) > limit:
        raise InvalidArgument(f"{label}不能超过{limit}个字。", field=key)
    return value


def parse_category(value: str) -> str:
    v = (value or "").strip()
    if v in CATEGORY_CN:
        return v
    if v in _CATEGORY_BY_LABEL:
        return _CATEGORY_BY_LABEL[v]
    raise InvalidArgument(
        "项目类别只能是：科普活动、科普创作、科普设施建设、其他。", field="category"
    )


def parse_month(value: str, label: str, field: str = "") -> date:
    m = _MONTH_RE.match((value or "").strip())
    if not m:
        raise InvalidArgument(f"{label}应写成“年-月”，如 2026-03。", field=field)
    year, month = int(m.group(1)), int(m.group(2))
    if not 1 <= month <= 12 or not 2000 <= year <= 2100:
        raise InvalidArgument(f"{label}“{value}”不是有效的年月。", field=field)
    return date(year, month, 1)


def parse_budget(value: Any) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise InvalidArgument("项目预算应为以元为单位的数字。", field="budget") from None
    if not amount.is_finite():
        raise InvalidArgument("项目预算应为以元为单位的数字。", field="budget")
    if amount < 0:
        raise InvalidArgument("项目预算不能为负数。", field="budget")
    if amount >= Decimal("1e12"):
        raise InvalidArgument("项目预算过大，请核对（单位：元）。", field="budget")
    return amount.quantize(Decimal("0.01"))


def check_phone(value: str) -> str:
    phone = re.sub(r"[\s()（）]", "", value or "")
    if not _PHONE_RE.match(phone):
        raise InvalidArgument(
            "联系电话格式不正确（手机号11位，或区号-座机号）。", field="contact_phone"
        )
    return phone


# ---------------------------------------------------------------- the 入库表


@dataclass(frozen=True)
class ProjectForm:  # 重点项目入库表 (附表3)
    name: str
    applicant_unit: str
    completing_unit: str
    contact_person: str
    contact_phone: str
    category: str
    start_month: str
    end_month: str
    content: str
    expected_performance: str
    budget: Decimal | None
    call_id: str | None


def clean_form(data: Mapping[str, Any]) -> ProjectForm:
    """Validate the 入库表; raises InvalidArgument with a Chinese explanation."""
    name = _text(data, "name", "项目名称", limit=200, required=True)
    applicant = _text(data, "applicant_unit", "申报单位", limit=200, required=True)
    completing = _text(data, "completing_unit", "完成单位", limit=200, required=True)
    person = _text(data, "contact_person", "联系人", limit=50, required=True)
    phone = check_phone(_text(data, "contact_phone", "联系电话", limit=30, required=True))
    category = parse_category(str(data.get("category") or ""))
    start = parse_month(str(data.get("start_month") or ""), "项目实施开始时间", "start_month")
    end = parse_month(str(data.get("end_month") or ""), "项目实施结束时间", "end_month")
    if end < start:
        raise InvalidArgument("项目实施时间的结束年月不能早于开始年月。", field="end_month")
    if (end.year - start.year) * 12 + end.month - start.month > 120:
        raise InvalidArgument("项目实施时间不能超过十年。", field="end_month")
    content = _text(data, "content", "项目基本内容", limit=5000, required=True)
    performance = _text(data, "expected_performance", "项目预期绩效", limit=5000, required=True)
    budget = parse_budget(data.get("budget"))
    call_id = str(data.get("call_id") or "").strip() or None
    if call_id:
        call_id = check_uuid(call_id, "申报批次")
    return ProjectForm(
        name,
        applicant,
        completing,
        person,
        phone,
        category,
        f"{start:%Y-%m}",
        f"{end:%Y-%m}",
        content,
        performance,
        budget,
        call_id,
    )


# ---------------------------------------------------------------- calls


@dataclass(frozen=True)
class CallSpec:  # 申报批次
    title: str
    programme: str
    year: int
    description: str
    deadline: datetime
    quota: int | None
    criteria: tuple[tuple[str, float], ...]
    min_reviewers: int
    outcome: CallOutcome = CallOutcome(FUNDING, "", 3)


def parse_deadline(value: str) -> datetime:
    """``YYYY-MM-DD`` means the end of that day in Asia/Shanghai; a moment keeps its zone."""
    v = (value or "").strip()
    try:
        if len(v) == 10:
            return datetime.combine(date.fromisoformat(v), time(23, 59, 59), SH)
        moment = datetime.fromisoformat(v)
    except ValueError:
        raise InvalidArgument(
            "截止时间格式不正确，如 2026-06-30 或 2026-06-30T17:00:00+08:00。"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=SH)


def clean_call(data: Mapping[str, Any], now: datetime) -> CallSpec:
    title = _text(data, "title", "批次名称", limit=200, required=True)
    programme = _text(data, "programme", "项目专项", limit=100, required=True)
    description = _text(data, "description", "申报说明", limit=5000, required=False)
    deadline = parse_deadline(str(data.get("deadline") or ""))
    if deadline <= now:
        raise InvalidArgument("截止时间必须晚于当前时间。")
    year = int(data.get("year") or 0) or deadline.astimezone(SH).year
    if not 2000 <= year <= 2100:
        raise InvalidArgument("年度不正确。")
    quota = int(data.get("quota") or 0)
    if quota < 0 or quota > 100000:
        raise InvalidArgument("支持名额应为正整数（不限名额请留空）。")
    raw = list(data.get("criteria") or [])
    criteria: list[tuple[str, float]] = []
    for item in raw:
        cname = plain(str(item.get("name") or "").strip(), "评审指标名称")
        weight = float(item.get("weight") or 0)
        if not cname or len(cname) > 50:
            raise InvalidArgument("评审指标名称不能为空，且不超过50个字。")
        if not math.isfinite(weight) or weight <= 0 or weight > 1000:
            raise InvalidArgument(f"评审指标“{cname}”的权重必须是正数。")
        if cname in dict(criteria):
            raise InvalidArgument(f"评审指标“{cname}”重复。")
        criteria.append((cname, weight))
    if len(criteria) > 20:
        raise InvalidArgument("评审指标不能超过20项。")
    min_reviewers = int(data.get("min_reviewers") or 1)
    if not 1 <= min_reviewers <= 50:
        raise InvalidArgument("每个项目的最少评审专家数应在1到50之间。")
    outcome = clean_outcome(data, bool(criteria))
    return CallSpec(
        title,
        programme,
        year,
        description,
        deadline,
        quota or None,
        tuple(criteria) or DEFAULT_CRITERIA,
        min_reviewers,
        outcome,
    )


def check_can_open_call(tenant_kind: str) -> None:
    if tenant_kind in ("township", "society"):
        raise PermissionDenied("乡镇（街道）科协和学会没有下级单位，不能发布申报批次。")


def check_can_file(call_owner_path: str, caller_path: str) -> None:
    if not is_proper_ancestor(call_owner_path, caller_path):
        raise PermissionDenied("只能向上级单位发布的申报批次申报项目。")


def check_call_open(deadline: datetime, now: datetime, title: str) -> None:
    if now > deadline:
        local = deadline.astimezone(SH)
        raise Conflict(f"申报批次“{title}”已于{local:%Y年%m月%d日 %H:%M}截止，不能再申报。")


# ---------------------------------------------------------------- lifecycle


EDITABLE = (DRAFT, RETURNED)


def check_can_edit(status: str) -> None:
    if status not in EDITABLE:
        raise Conflict(f"项目当前状态为“{STATUS_CN[status]}”，只有草稿或已退回修改的项目可以修改。")


def check_can_submit(status: str, call_id: str | None) -> None:
    if status not in EDITABLE:
        raise Conflict(f"项目当前状态为“{STATUS_CN[status]}”，不能重复申报。")
    if not call_id:
        raise Conflict("请先选择申报批次再提交申报。")


def resubmission_needs_open_call(status: str) -> bool:
    """A returned project was filed in time: its resubmission is not refused by the deadline
    (as a returned brief may be filed again after its due date)."""
    return status != RETURNED


@dataclass(frozen=True)
class ReviewOutcome:
    status: str
    awaiting_path: str | None


def review_step(
    *,
    status: str,
    awaiting_path: str | None,
    call_owner_path: str,
    reviewer_path: str,
    decision: str,
    opinion: str,
) -> ReviewOutcome:
    """One level's opinion (逐级审核): pass sends it up (the call owner's pass opens the
    expert review), fail ends it (未通过), return sends it back to the applicant to revise and
    resubmit (退回修改), after which the chain starts again from the first level."""
    if decision not in DECISION_CN:
        raise InvalidArgument(
            "审核结论只能是通过（pass）、不通过（fail）或退回修改（return）。", field="decision"
        )
    plain(opinion, "审核意见")
    if decision == FAIL and not opinion.strip():
        raise InvalidArgument("不通过时必须填写理由。", field="opinion")
    if decision == RETURN and len(opinion.strip()) < 2:
        raise InvalidArgument(
            "退回修改时必须填写退回理由（至少2个字），说明需要修改的内容。", field="opinion"
        )
    if len(opinion) > 2000:
        raise InvalidArgument("审核意见不能超过2000个字。", field="opinion")
    if status == EXPERT_REVIEW:
        if reviewer_path != call_owner_path:
            raise PermissionDenied("只有发布申报批次的单位可以在专家评审阶段作出决定。")
        if decision == PASS:
            raise Conflict("专家评审阶段请根据评分排名择优立项（入选），不能逐个通过。")
        if decision == RETURN:
            raise Conflict("项目已进入专家评审，不能再退回修改；如需调整，请在逐级审核阶段退回。")
        return ReviewOutcome(REJECTED, None)
    if status != SUBMITTED or awaiting_path is None:
        raise Conflict(f"项目当前状态为“{STATUS_CN[status]}”，不在审核阶段。")
    if reviewer_path != awaiting_path:
        raise PermissionDenied("当前应由其他层级的科协审核该项目。")
    if decision == FAIL:
        return ReviewOutcome(REJECTED, None)
    if decision == RETURN:
        return ReviewOutcome(RETURNED, None)
    if reviewer_path == call_owner_path:
        return ReviewOutcome(EXPERT_REVIEW, None)
    return ReviewOutcome(SUBMITTED, parent_path(reviewer_path))


# 可执行的操作, in the order a project meets them
ACTIONS = ("edit", "submit", "review", "report_progress", "complete", "evaluate", "flag_award")


@dataclass(frozen=True)
class Standing:
    """Where a caller stands towards one project: what ``allowed_actions`` needs to know."""

    status: str
    call_id: str | None
    awaiting_path: str | None
    call_owner_path: str  # the tenant that published the call; "" before one is chosen
    own: bool  # the caller's tenant filed the project
    same_tenant_path: bool


def allowed_actions(project: Standing, caller_path: str, roles: Iterable[str]) -> list[str]:
    """What the caller may do next with a project (``ACTIONS`` order), from the same checks
    the use cases make: the role, whose project it is, and the state rule of each step.
    ``review`` is the pending level's opinion, or the call owner's decision in expert review."""
    roles = frozenset(roles)
    owner_of_call = bool(project.call_owner_path) and project.call_owner_path == caller_path

    def probe(action: str) -> None:
        if action in ("edit", "submit", "report_progress", "complete"):
            check_role(roles, WRITE_ROLES, "")
            if not project.own:
                raise PermissionDenied("")
            if action == "edit":
                check_can_edit(project.status)
            elif action == "submit":
                check_can_submit(project.status, project.call_id)
            elif action == "report_progress":
                check_can_report_progress(project.status)
            else:
                check_can_complete(project.status)
        elif action == "review":
            check_role(roles, REVIEW_ROLES, "")
            if project.same_tenant_path or not project.call_id:
                raise PermissionDenied("")
            review_step(
                status=project.status,
                awaiting_path=project.awaiting_path,
                call_owner_path=project.call_owner_path,
                reviewer_path=caller_path,
                decision=FAIL,
                opinion="--",
            )
        elif action == "evaluate":
            check_role(roles, REVIEW_ROLES, "")
            if not owner_of_call:
                raise PermissionDenied("")
            evaluate(project.status, 60.0)
        else:
            check_role(roles, ADMIN_ROLES, "")
            if not owner_of_call:
                raise PermissionDenied("")
            check_can_flag_award(project.status)

    allowed = []
    for action in ACTIONS:
        try:
            probe(action)
        except DomainError:
            continue
        allowed.append(action)
    return allowed


def check_can_report_progress(status: str) -> str:
    if status not in (APPROVED, IN_PROGRESS):
        raise Conflict(f"项目当前状态为“{STATUS_CN[status]}”，只有已立项的项目可以报送进展。")
    return IN_PROGRESS


def check_can_complete(status: str) -> str:
    if status == APPROVED:
        raise Conflict("项目尚未报送实施进展，请先报送进展再申请结项。")
    if status != IN_PROGRESS:
        raise Conflict(f"项目当前状态为“{STATUS_CN[status]}”，不能结项。")
    return COMPLETED


def grade_for(score: float) -> str:
    """考核等次: 优秀 ≥90, 良好 ≥75, 合格 ≥60, otherwise 不合格."""
    if score >= 90:
        return "优秀"
    if score >= 75:
        return "良好"
    if score >= 60:
        return "合格"
    return "不合格"


def evaluate(status: str, score: float) -> tuple[str, str]:
    if status == EVALUATED:
        raise Conflict("项目已考核，不能重复考核。")
    if status != COMPLETED:
        raise Conflict(f"项目当前状态为“{STATUS_CN[status]}”，结项后才能考核。")
    check_score(score, "考核得分")
    return EVALUATED, grade_for(score)


def check_can_flag_award(status: str) -> None:
    if status not in LIBRARY_STATES:
        raise Conflict("只有已入库立项的项目可以推荐参评科普成果奖。")


def check_score(score: float, label: str) -> float:
    if not isinstance(score, int | float) or not math.isfinite(score) or not 0 <= score <= 100:
        raise InvalidArgument(f"{label}必须在0到100之间。")
    return float(score)


def library_no(year: int, call_id: str, seq: int) -> str:
    """入库编号, e.g. 2026-3F2A9C-007."""
    return f"{year}-{call_id.replace('-', '')[:6].upper()}-{seq:03d}"


def local_year(moment: datetime) -> int:
    return moment.astimezone(SH).year


def parse_sort(sort: str, order: str) -> tuple[str, str]:
    """The list's (column, direction); ``updated_at desc`` when neither is given."""
    key = sort or "updated_at"
    direction = order or ("asc" if sort in ("name", "tenant_name") else "desc")
    if key not in SORT_CN:
        raise InvalidArgument(
            "排序字段不正确，可选：" + "、".join(SORT_CN.values()) + "。", field="sort"
        )
    if direction not in ORDERS:
        raise InvalidArgument("排序方向不正确，应为 asc（升序）或 desc（降序）。", field="order")
    return key, direction
