"""Rows <-> proto of the identity service (``kepu.identity.v1``), with the 说明 of an audit
entry (``describe``: what it records, in the words a 等保 auditor reads)."""

from __future__ import annotations

import json
from typing import Any

from kepu.identity.v1 import identity_pb2 as pb
from kepu_common.times import shanghai_iso

from .models import AuditEntry, Partner, Tenant, User
from .service import Issued

FIELD_CN = {
    "phone": "手机号",
    "email": "邮箱",
    "im_account": "即时通讯账号",
    "id_number": "身份证号",
    "contact_phone": "联系电话",
}
ROLE_CN = {
    "admin": "管理员",
    "reviewer": "审核员",
    "reporter": "填报员",
    "viewer": "查看",
    "platform_admin": "平台运维",
}
CLIENT_CN = {"kepu-portal": "门户", "kepu-cli": "脚本"}
PARTNER_ACTION_CN = {"list": "查询授权人才名单", "financing": "回传融资结果"}


def tenant_msg(r: Tenant) -> pb.Tenant:
    return pb.Tenant(
        id=r.id,
        code=r.code,
        name=r.name,
        kind=r.kind,
        parent_id=r.parent_id,
        path=r.path,
        status=r.status,
        has_admin=bool(r.has_admin),
        child_count=int(r.child_count),
    )


def user_msg(row: User) -> pb.User:
    return pb.User(
        id=row.id,
        tenant_id=row.tenant_id,
        username=row.username,
        roles=list(row.roles),
        must_change_password=row.must_change_password,
        locked=bool(row.locked),
        display_name=row.display_name,
    )


def audit_entry_msg(r: AuditEntry) -> pb.AuditEntry:
    """An entry with its 说明 (``describe``), times in Beijing time."""
    return pb.AuditEntry(
        id=r.id,
        occurred_at=shanghai_iso(r.occurred_at),
        action=r.action,
        username=r.username,
        tenant_path=r.tenant_path,
        details_json=r.details,
        actor=r.actor or r.username,
        client_ip=r.client_ip,
        object=r.object,
        summary=describe(r.action, r.username, json.loads(r.details or "{}")),
    )


def partner_msg(r: Partner) -> pb.Partner:
    return pb.Partner(
        client_id=r.client_id,
        name=r.name,
        tenant_id=r.tenant_id,
        tenant_path=r.tenant_path,
        tenant_name=r.tenant_name,
        scopes=list(r.scopes),
        webhook_url=r.webhook_url,
        events=list(r.events),
        enabled=bool(r.enabled),
        created_at=shanghai_iso(r.created_at),
        secret_rotated_at=shanghai_iso(r.secret_rotated_at),
    )


def credentials_msg(issued: Issued) -> pb.PartnerCredentials:
    return pb.PartnerCredentials(
        partner=partner_msg(issued.partner),
        client_secret=issued.client_secret,
        webhook_secret=issued.webhook_secret,
    )


def _roles(value: str) -> str:
    return "、".join(ROLE_CN.get(r, r) for r in value.split(",") if r) or "无"


def _fields(value: str) -> str:
    return "、".join(FIELD_CN.get(f, f) for f in value.split(",") if f)


def describe(action: str, username: str, details: dict[str, Any]) -> str:
    """说明: what an entry records, in words a clerk reads (never a batch id)."""
    d = {k: str(v) for k, v in details.items()}
    match action:
        case "login":
            return f"{username} 登录成功（{CLIENT_CN.get(d.get('client_id', ''), '门户')}）"
        case "login_failure":
            return f"{username} 登录失败：密码错误"
        case "login_blocked":
            return f"{username} 在账号锁定期间尝试登录，已拒绝"
        case "lockout":
            return f"{username} 连续登录失败，账号被临时锁定"
        case "logout":
            return f"{username} 退出登录"
        case "password_changed":
            return f"{username} 修改了登录密码"
        case "totp_enabled":
            return f"{username} 启用了动态口令"
        case "credential_issued":
            return f"为 {username} 分配了登录账号"
        case "credential_reset":
            return f"重置了 {username} 的初始密码"
        case "account_unlocked":
            return f"解除了 {username} 的登录锁定"
        case "role_changed":
            return (
                f"{username} 的角色由 {_roles(d.get('from', ''))} 调整为 {_roles(d.get('to', ''))}"
            )
        case "personal_data_viewed" if d.get("subject") == "project":
            return f"查看了项目「{d.get('project_name', '')}」的完整个人信息（{_fields(d.get('fields', ''))}）"
        case "personal_data_viewed":
            return f"查看了人才的完整个人信息（{_fields(d.get('fields', ''))}）"
        case "personal_data_exported":
            return f"导出了 {d.get('count', '')} 名人才的完整个人信息（{_fields(d.get('fields', ''))}）"
        case "partner_access":
            what = PARTNER_ACTION_CN.get(d.get("access", ""), "访问人才信息")
            return (
                f"合作机构 {d.get('partner', username)} {what}，涉及 {d.get('count', '0')} 名人才"
            )
        case "partner_registered":
            return f"登记了合作机构 {username}"
        case "partner_secret_rotated":
            return f"更换了合作机构 {username} 的密钥"
        case "partner_disabled":
            return f"停用了合作机构 {username}"
        case "tenant_created":
            return f"新建了单位 {d.get('name', username)}"
    return action
