"""The audit log 审计日志 a 等保 auditor reads: identity's own entries plus the other services'.

Identity writes its entries (sign-ins, failures, lockouts, credential issues, role changes,
partner changes) in the transaction of the change. The talent service's personal-data views,
exports with ``reveal`` and partner accesses arrive as events on ``talent.events``, full views
of a project's contact phone on ``projects.events``; ``on_service_event`` is the idempotent consumer's handler (``identity.audit_feed`` in the
identity worker) that writes them as audit rows, with the event's time, actor, source address
and object. ``describe`` says in Chinese what an entry records (the 说明 column).
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from kepu.events.v1 import envelope_pb2
from kepu.talent.v1 import talent_pb2
from sqlalchemy.orm import Session

from . import repository as repo

CONSUMER = "identity.audit_feed"
TOPICS = ["talent.events", "projects.events"]

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


def on_service_event(s: Session, envelope: envelope_pb2.EventEnvelope) -> None:
    """Write the audit row of a personal-data view, an export with reveal or a partner access."""
    at = envelope.occurred_at.ToDatetime(tzinfo=UTC) if envelope.HasField("occurred_at") else None
    if envelope.type == "talent.personal_data_revealed":
        seen = talent_pb2.PersonalDataRevealed()
        envelope.payload.Unpack(seen)
        export = bool(seen.export_root)
        repo.add_audit_row(
            s,
            tenant_path=envelope.tenant_path,
            action="personal_data_exported" if export else "personal_data_viewed",
            username=seen.actor_username,
            actor=seen.actor_username or seen.actor,
            client_ip=seen.client_ip,
            object=f"tenant:{seen.export_root}" if export else f"talent:{seen.talent_id}",
            details={
                "fields": ",".join(seen.fields),
                "count": str(seen.count or 1),
                "actor_tenant_path": seen.actor_tenant_path,
            },
            occurred_at=at,
        )
    elif envelope.type == "projects.personal_data_revealed":
        seen_project = envelope_pb2.AuditRecorded()
        envelope.payload.Unpack(seen_project)
        details = dict(seen_project.details)
        repo.add_audit_row(
            s,
            tenant_path=envelope.tenant_path,
            action=seen_project.action,
            username=seen_project.username,
            actor=seen_project.username or seen_project.subject_id,
            client_ip=seen_project.client_ip,
            object=details.pop("object", ""),
            details=details,
            occurred_at=at,
        )
    elif envelope.type == "talent.partner_accessed":
        access = talent_pb2.PartnerAccessed()
        envelope.payload.Unpack(access)
        name = repo.client_name(s, access.partner_client_id)
        repo.add_audit_row(
            s,
            tenant_path=envelope.tenant_path,
            action="partner_access",
            username=access.partner_client_id,
            actor=access.partner_client_id,
            client_ip=access.client_ip,
            object=",".join(f"talent:{t}" for t in access.talent_ids),
            details={
                "partner": name or access.partner_client_id,
                "access": access.action,
                "count": str(len(access.talent_ids)),
            },
            occurred_at=at,
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
