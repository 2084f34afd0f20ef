"""Deadline reminders, overdue notices and escalations (in-app and by e-mail).

Idempotent: each notice has a key (kind, type, period, tenant) stored with a unique
constraint, so running the scheduler again sends nothing twice. E-mails go out after
the notices are committed and are marked as sent one by one.
"""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.message import EmailMessage

from kepu.reporting.v1 import reporting_pb2
from kepu_common.db import Database, Scope
from kepu_common.outbox import record_event
from sqlalchemy.orm import Session

from . import periods, report_types
from . import repository as repo
from .models import Notification, Tenant
from .service import TOPIC

log = logging.getLogger(__name__)

TITLES = {
    "reminder_3d": "【报送提醒】{type}（{period}）将于 3 日内截止",
    "reminder_1d": "【报送提醒】{type}（{period}）明日截止",
    "overdue": "【逾期通知】{type}（{period}）已逾期",
    "escalation": "【逾期督办】{tenant}的{type}（{period}）逾期超过 3 个工作日",
}


def _body(
    kind: str,
    rtype: report_types.ReportType,
    period: periods.Period,
    tenant: Tenant,
    deadline: date,
) -> str:
    when = f"{deadline.year}年{deadline.month}月{deadline.day}日"
    if kind == "escalation":
        return (
            f"下级单位“{tenant.name}”应于{when}前报送{period.label}{rtype.name}，"
            f"截至目前已逾期超过 3 个工作日仍未报送，请督促其尽快报送。"
        )
    if kind == "overdue":
        return (
            f"贵单位“{tenant.name}”应于{when}前报送{period.label}{rtype.name}，目前已逾期，"
            "请尽快登录科普云服务平台填报并提交。"
        )
    return (
        f"贵单位“{tenant.name}”的{period.label}{rtype.name}须于{when}前报送上级科协，"
        "请及时登录科普云服务平台填报并提交。"
    )


def schedule(db: Database, now: datetime) -> int:
    """Record every notice that is due at ``now`` and not yet recorded; returns how many."""
    today = periods.local_date(now)
    created = 0
    with db.unit_of_work(Scope.system_scope()) as s:
        types = list(report_types.BUILTIN_TYPES) + repo.all_custom_types(s)
        parents: dict[str, Tenant | None] = {}
        for rtype in types:
            for period in periods.periods_around(rtype.period_kind, today):
                for kind, rule in rtype.due_rules.items():
                    deadline = rule.deadline(period)
                    notices = periods.due_notices(deadline, today)
                    if not notices or period.start > today:
                        continue
                    for tenant in repo.pending_tenants(s, rtype, period.code, kind):
                        for notice in notices:
                            recipient: Tenant | None = tenant
                            if notice == "escalation":
                                key = tenant.parent_id or ""
                                if key not in parents:
                                    parents[key] = repo.tenant_by_id_system(s, key)
                                recipient = parents[key]
                            if recipient is None:
                                continue
                            title = TITLES[notice].format(
                                type=rtype.name, period=period.label, tenant=tenant.name
                            )
                            new = repo.add_notification(
                                s,
                                recipient=recipient,
                                kind=notice,
                                type_code=rtype.code,
                                period=period.code,
                                subject_tenant_id=tenant.id,
                                title=title,
                                body=_body(notice, rtype, period, tenant, deadline),
                                dedupe_key=f"{notice}:{rtype.code}:{period.code}:{tenant.id}",
                            )
                            if new and notice == "overdue":
                                record_overdue(s, rtype, period, tenant, deadline)
                            created += new
    return created


def record_overdue(
    s: Session,
    rtype: report_types.ReportType,
    period: periods.Period,
    tenant: Tenant,
    deadline: date,
) -> None:
    """Tell others that a report fell due unfiled (the assessment counts it as due), in the
    transaction of the overdue notice, so it is told exactly once."""
    record_event(
        s,
        topic=TOPIC,
        event_type="reporting.report.overdue",
        tenant_id=tenant.id,
        tenant_path=tenant.path,
        actor="reporting.reminders",
        payload=reporting_pb2.ReportOverdue(
            type_code=rtype.code,
            period=period.code,
            tenant_id=tenant.id,
            deadline=deadline.isoformat(),
        ),
    )


@dataclass
class SmtpMailer:
    host: str
    port: int
    sender: str = "kepu-cloud@localhost"
    timeout: float = 10.0

    def send(self, to: str, subject: str, body: str) -> None:
        msg = EmailMessage()
        msg["From"] = self.sender
        msg["To"] = to
        msg["Subject"] = subject
        msg.set_content(body + "\n\n（本邮件由科普云服务平台自动发送，请勿直接回复。）")
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            smtp.send_message(msg)


def send_emails(db: Database, mailer: SmtpMailer | None, now: datetime | None = None) -> int:
    """Send the e-mail of every recorded notice that has an address and was not yet sent."""
    if mailer is None:
        return 0
    sent = 0
    with db.unit_of_work(Scope.system_scope()) as s:
        pending: list[Notification] = repo.unsent_emails(s)
        for note in pending:
            try:
                mailer.send(note.email_to or "", note.title, note.body)
            except (OSError, smtplib.SMTPException) as exc:
                log.warning("reminder e-mail to %s failed: %s", note.email_to, exc)
                if isinstance(exc, smtplib.SMTPRecipientsRefused):
                    repo.mark_email(s, note.id, sent_at=None, error=str(exc)[:500])
                continue
            repo.mark_email(s, note.id, sent_at=now or datetime.now(UTC), error=None)
            sent += 1
    return sent


def run_once(db: Database, now: datetime, mailer: SmtpMailer | None) -> tuple[int, int]:
    return schedule(db, now), send_emails(db, mailer, now)
