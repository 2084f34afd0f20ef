"""Reminders three days and one day before the deadline, overdue notices and escalation,
in-app and by e-mail through a real local SMTP server (aiosmtpd); each is sent once."""

import email
import email.policy
import socket
import threading
import time

import pytest
from aiosmtpd.controller import Controller
from kepu.events.v1 import envelope_pb2
from kepu.reporting.v1 import reporting_pb2
from kepu_common.db import Scope
from kepu_reporting import reminders, repository, service
from kepu_reporting.__main__ import _wait_for_next_run
from kepu_reporting.clock import FileClock
from reporting_testkit import sh, system
from sqlalchemy import text

BRIEF, OCT = "monthly_brief", "2026-10"


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd hook
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((list(envelope.rcpt_tos), msg))
        return "250 OK"

    def to(self, address, contains=""):
        return [m for rcpt, m in self.messages if address in rcpt and contains in m["Subject"]]


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def smtp():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield inbox, reminders.SmtpMailer("127.0.0.1", controller.port, "noreply@kepu.test")
    controller.stop()


@pytest.fixture(scope="module", autouse=True)
def contacts(db, tree):
    for code in ("411303001", "411303002", "411303"):
        node = tree[code]
        with db.unit_of_work(Scope.tenant(node.path)) as s:
            service.set_contact_email(s, node.principal(), None, f"kx{code}@example.cn")


def _notes(db, tenant, kind):
    with system(db) as s:
        return (
            s.execute(
                text(
                    "SELECT subject_tenant_id::text FROM notifications WHERE tenant_id = CAST(:t AS uuid)"
                    " AND kind = :k AND type_code = :c AND period = :p"
                ),
                {"t": tenant.id, "k": kind, "c": BRIEF, "p": OCT},
            )
            .scalars()
            .all()
        )


def _overdue_events(db):
    """(tenant id, type, period) of every reporting.report.overdue event in the outbox."""
    with system(db) as s:
        rows = s.execute(
            text("SELECT payload FROM outbox WHERE type = 'reporting.report.overdue'")
        ).scalars()
        out = []
        for raw in rows:
            env = envelope_pb2.EventEnvelope.FromString(raw)
            msg = reporting_pb2.ReportOverdue()
            env.payload.Unpack(msg)
            out.append((msg.tenant_id, msg.type_code, msg.period, env.tenant_id))
    return out


def _wait_for(predicate, timeout=5.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end and not predicate():
        time.sleep(0.05)
    return predicate()


def test_reminders_overdue_notices_and_escalation(db, tree, clock, act, smtp):
    inbox, mailer = smtp
    t1, t2, wolong = tree["411303001"], tree["411303002"], tree["411303"]

    # Saturday 31 Oct: three days before the 3 Nov deadline
    clock.set(sh(2026, 10, 31, 8))
    reminders.run_once(db, clock.now(), mailer)
    assert _notes(db, t1, "reminder_3d") == [t1.id]
    assert _wait_for(
        lambda: inbox.to("kx411303001@example.cn", "工作简报（2026年10月）将于 3 日内截止")
    )
    mail = inbox.to("kx411303001@example.cn", "工作简报（2026年10月）将于 3 日内截止")[-1]
    assert "七一乡科协" in mail.get_content()
    assert "2026年11月3日" in mail.get_content()

    # running again sends nothing twice
    sent_before = len(inbox.messages)
    assert reminders.run_once(db, clock.now(), mailer) == (0, 0)
    assert len(inbox.messages) == sent_before

    # 七一乡 submits on 1 Nov; on 2 Nov only 蒲山镇 gets the one-day reminder
    clock.set(sh(2026, 11, 1, 10))
    act(t1, service.submit, BRIEF, OCT, {"trainees": 10})
    clock.set(sh(2026, 11, 2, 8))
    reminders.run_once(db, clock.now(), mailer)
    assert _notes(db, t1, "reminder_1d") == []
    assert _notes(db, t2, "reminder_1d") == [t2.id]
    assert _wait_for(lambda: inbox.to("kx411303002@example.cn", "明日截止"))

    # 4 Nov: overdue notice to 蒲山镇, no escalation yet
    clock.set(sh(2026, 11, 4, 8))
    reminders.run_once(db, clock.now(), mailer)
    assert _notes(db, t2, "overdue") == [t2.id]
    assert _wait_for(lambda: inbox.to("kx411303002@example.cn", "【逾期通知】工作简报"))
    assert t2.id not in _notes(db, wolong, "escalation")
    # ... and, in the same transaction, the event that tells the assessment it fell due unfiled
    overdue = [e for e in _overdue_events(db) if e[2] == OCT]
    assert (t2.id, BRIEF, OCT, t2.id) in overdue
    assert t1.id not in {e[0] for e in overdue}  # 七一乡 submitted
    with system(db) as s:
        notices = s.execute(
            text("SELECT count(*) FROM notifications WHERE kind = 'overdue' AND period = :p"),
            {"p": OCT},
        ).scalar()
    assert len(overdue) == notices

    # Friday 6 Nov: three working days overdue -> escalated to the county
    clock.set(sh(2026, 11, 6, 8))
    reminders.run_once(db, clock.now(), mailer)
    assert t2.id in _notes(db, wolong, "escalation")
    assert t1.id not in _notes(db, wolong, "escalation")
    assert _wait_for(lambda: inbox.to("kx411303@example.cn", "蒲山镇科协的工作简报"))

    # the county sees the escalation in-app; 蒲山镇 does not see the county's notices
    with db.unit_of_work(Scope.tenant(wolong.path)) as s:
        titles = [
            n.title
            for n in repository.list_notifications(
                s, wolong.id, wolong.path, unread_only=True, limit=100
            )
        ]
    assert any("蒲山镇科协" in t and "逾期超过 3 个工作日" in t for t in titles)
    with db.unit_of_work(Scope.tenant(t2.path)) as s:
        assert (
            repository.list_notifications(s, wolong.id, wolong.path, unread_only=False, limit=100)
            == []
        )

    # a second run on the same day changes nothing
    count_before, events_before = len(inbox.messages), _overdue_events(db)
    assert reminders.run_once(db, clock.now(), mailer) == (0, 0)
    assert len(inbox.messages) == count_before
    assert _overdue_events(db) == events_before  # each fall told once
    assert sorted(events_before).count((t2.id, BRIEF, OCT, t2.id)) == 1


def test_an_unreachable_smtp_server_keeps_the_email_for_the_next_run(db, tree, clock, smtp):
    inbox, mailer = smtp
    clock.set(sh(2026, 11, 30, 8))  # a new month: reminders for nothing yet due in this brief
    dead = reminders.SmtpMailer("127.0.0.1", _free_port(), "noreply@kepu.test", timeout=1)
    t2 = tree["411303002"]
    with system(db) as s:
        repository.add_notification(
            s,
            recipient=repository.tenant_by_id_system(s, t2.id),
            kind="overdue",
            type_code="manual",
            period=OCT,
            subject_tenant_id=t2.id,
            title="【测试】重发",
            body="正文",
            dedupe_key="test:retry",
        )
    assert reminders.send_emails(db, dead, clock.now()) == 0
    assert reminders.send_emails(db, mailer, clock.now()) >= 1
    assert _wait_for(lambda: inbox.to("kx411303002@example.cn", "【测试】重发"))


def test_moving_the_file_clock_runs_the_scheduler_at_once(tmp_path):
    """An end-to-end test that sets "now" sees the notices due then within a second, not at the
    next five-minute run."""
    file_clock, stop = FileClock(tmp_path / "now"), threading.Event()
    threading.Timer(0.3, lambda: (tmp_path / "now").write_text("2026-10-29T09:00:00+08:00")).start()
    started = time.monotonic()
    _wait_for_next_run(file_clock, 300.0, stop)
    assert time.monotonic() - started < 5.0
    assert file_clock.now().isoformat() == "2026-10-29T09:00:00+08:00"
    started = time.monotonic()
    _wait_for_next_run(file_clock, 1.5, stop)  # unmoved: the interval
    assert 1.4 < time.monotonic() - started < 5.0
