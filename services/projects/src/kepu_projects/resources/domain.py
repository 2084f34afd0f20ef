"""Rules of the resource library 科普资源库 (seed 000 五(五)), plain Python without I/O: the
kinds and themes, the form, the review by the owner's parent before publication (draft ->
submitted -> published, or returned with a reason and submitted again), the sharing scope,
the file types a resource may carry, and the province's yearly target of 1,000."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kepu_common.errors import Conflict, InvalidArgument, PermissionDenied
from kepu_common.objects import DOCX, JPEG, MP4, PDF, PNG, PPTX

KINDS = ("文章", "挂图", "漫画", "微视频", "微电影", "动漫", "展板", "课件", "游戏", "其他")
THEMES = (
    "生态文明",
    "安全健康",
    "应急科普",
    "乡村振兴",
    "科学生活",
    "创新创业",
    "青少年科技",
    "其他",
)
SCOPES = {"subtree": "本辖区共享", "province": "全省共享"}
DRAFT, SUBMITTED, PUBLISHED, RETURNED = "draft", "submitted", "published", "returned"
STATUS_CN = {DRAFT: "草稿", SUBMITTED: "待上级审核", PUBLISHED: "已发布", RETURNED: "已退回修改"}
EDITABLE = (DRAFT, RETURNED)
PROVINCE_TARGET = 1000  # 全省每年开发、创作一千种以上科普产品、科普作品
MAX_FILES = 20
MAX_AUTHORS = 20

# What a resource may carry: documents, pictures, slides and videos (checked by magic bytes).
RESOURCE_TYPES = {
    ".pdf": PDF, ".jpg": JPEG, ".jpeg": JPEG, ".png": PNG, ".docx": DOCX, ".pptx": PPTX,
    ".mp4": MP4,
}  # fmt: skip
RESOURCE_MAX_BYTES = 50 * 1024 * 1024

WRITE_ROLES = frozenset({"admin", "reporter"})
REVIEW_ROLES = frozenset({"admin", "reviewer"})


@dataclass
class Resource:  # 科普资源（产品、作品）
    id: str
    tenant_id: str
    tenant_path: str
    tenant_name: str
    kind: str
    title: str
    theme: str
    summary: str
    author_ids: list[str]
    share_scope: str
    status: str = DRAFT
    return_reason: str = ""
    submitted_at: datetime | None = None
    published_at: datetime | None = None
    created_at: datetime | None = None
    downloads: int = 0
    files: list[Any] = field(default_factory=list)


@dataclass(frozen=True)
class ResourceForm:
    kind: str
    title: str
    theme: str
    summary: str
    author_ids: tuple[str, ...]
    share_scope: str


def _text(data: Mapping[str, Any], key: str, label: str, limit: int, required: bool) -> str:
    value = str(data.get(key) or "").strip()
    if "\x00" in value:
        raise InvalidArgument(f"{label}含有不可见的控制字符。", field=key)
    if required and not value:
        raise InvalidArgument(f"请填写{label}。", field=key)
    if len(value) > limit:
        raise InvalidArgument(f"{label}不能超过{limit}个字。", field=key)
    return value


def clean_form(data: Mapping[str, Any], check_uuid: Any) -> ResourceForm:
    """Validate a resource's form; raises InvalidArgument naming the field."""
    title = _text(data, "title", "资源名称", 200, True)
    kind = str(data.get("kind") or "")
    if kind not in KINDS:
        raise InvalidArgument(f"资源类型只能是：{'、'.join(KINDS)}。", field="kind")
    theme = _text(data, "theme", "主题", 50, True)
    summary = _text(data, "summary", "内容简介", 2000, False)
    scope = str(data.get("share_scope") or "subtree")
    if scope not in SCOPES:
        raise InvalidArgument("共享范围只能是本辖区共享或全省共享。", field="share_scope")
    authors: list[str] = []
    for raw in data.get("author_ids") or ():
        tid = check_uuid(str(raw), "作者（科普人才）", "author_ids")
        if tid not in authors:
            authors.append(tid)
    if len(authors) > MAX_AUTHORS:
        raise InvalidArgument(f"作者不能超过{MAX_AUTHORS}人。", field="author_ids")
    return ResourceForm(kind, title, theme, summary, tuple(authors), scope)


def check_role(roles: Iterable[str], allowed: frozenset[str], action_cn: str) -> None:
    if not allowed & set(roles):
        raise PermissionDenied(f"当前账号没有{action_cn}的权限。")


def check_editable(r: Resource) -> None:
    if r.status not in EDITABLE:
        raise Conflict(f"该资源当前状态为“{STATUS_CN[r.status]}”，只有草稿或已退回的资源可以修改。")


def check_submit(r: Resource) -> None:
    check_editable(r)
    if not r.files:
        raise InvalidArgument("请先上传资源文件再提交审核。", field="files")


def parent_path(path: str) -> str | None:
    return path.rsplit(".", 1)[0] if "." in path else None


def submitted_status(r: Resource) -> str:
    """A province's own resource has no level above to review it: it is published at once."""
    return SUBMITTED if parent_path(r.tenant_path) else PUBLISHED


def review(r: Resource, reviewer_path: str, decision: str, reason: str) -> str:
    """The owner's parent approves (publishes) or returns with a reason; the new status."""
    if decision not in ("approve", "return"):
        raise InvalidArgument("审核结果只能是通过或退回修改。", field="decision")
    if r.status != SUBMITTED:
        raise Conflict(f"该资源当前状态为“{STATUS_CN[r.status]}”，不在待审核状态。")
    if parent_path(r.tenant_path) != reviewer_path:
        raise PermissionDenied("科普资源应由资源所属单位的上一级科协审核。")
    if decision == "return" and not reason.strip():
        raise InvalidArgument("退回修改须填写退回原因。", field="reason")
    return PUBLISHED if decision == "approve" else RETURNED


def allowed_actions(r: Resource, caller_path: str, roles: Iterable[str]) -> Sequence[str]:
    roles = set(roles)
    out: list[str] = []
    own = r.tenant_path == caller_path
    if own and r.status in EDITABLE and roles & WRITE_ROLES:
        out += ["edit", "upload", "submit"]
    if r.status == SUBMITTED and parent_path(r.tenant_path) == caller_path and roles & REVIEW_ROLES:
        out += ["approve", "return"]
    return out


def target_for(tenant_kind: str) -> int:
    """The yearly target shown beside the count (the province's 1,000; none below it)."""
    return PROVINCE_TARGET if tenant_kind == "province" else 0
