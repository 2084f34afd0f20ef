"""A ``projects.partner_notice`` from projects.events becomes a signed ``project.approved``
webhook, exactly like the talent notices (same consumer, same delivery loop)."""

from __future__ import annotations

import time

from kepu.projects.v1 import projects_pb2
from kepu_common.consumer import handle_once
from kepu_common.outbox import build_envelope
from kepu_identity import consumers, webhooks

from .test_partners import Receiver, delivery, subscribed


def project_notice(client_id: str, event: str = "project.approved"):
    payload = projects_pb2.PartnerNotice(
        partner_client_id=client_id,
        event=event,
        consent_id="c-9",
        project=projects_pb2.PartnerProject(
            id="5b7d0c2e-1c7a-4d55-9a1e-0c6f3b1e2a77",
            name="浉河区茶园科普示范基地",
            category="facility",
            category_label="科普设施建设",
            applicant_unit="浉河区科协",
            region_name="浉河区科协",
            region_code="411502",
            status="approved",
            status_label="已入库立项",
            library_no="2026-XY-001",
            start_month="2026-04",
            end_month="2026-12",
            implementation_months=9,
            budget="120000.00",
        ),
        occurred_at="2026-09-01T08:00:00+08:00",
    )
    return build_envelope(
        event_type="projects.partner_notice",
        tenant_id="t",
        tenant_path="410000.411500.411502",
        actor="u",
        payload=payload,
    )


def test_the_identity_worker_listens_to_projects_events():
    assert (
        "projects.events" in consumers.WEBHOOK_TOPICS
        and "talent.events" in consumers.WEBHOOK_TOPICS
    )


def test_a_project_notice_is_delivered_once_signed_only_to_subscribers(ident):
    holder: dict[str, str] = {}
    rx = Receiver(holder)
    try:
        cid = subscribed(ident, rx.url, holder, events=("project.approved",))
        env = project_notice(cid)
        assert handle_once(
            ident.db, consumers.WEBHOOKS_CONSUMER, env, consumers.handle_partner_notice
        )
        assert not handle_once(
            ident.db, consumers.WEBHOOKS_CONSUMER, env, consumers.handle_partner_notice
        )
        # a bank subscribed to talent events only does not get project notices
        other: dict[str, str] = {}
        talent_only = subscribed(ident, rx.url, other, events=("talent.certified",))
        skipped = project_notice(talent_only)
        handle_once(ident.db, consumers.WEBHOOKS_CONSUMER, skipped, consumers.handle_partner_notice)
        assert delivery(ident, skipped.event_id) is None
        dispatcher = webhooks.WebhookDispatcher(
            ident.db, ident.sealer, backoff_seconds=0.05, egress=ident.partners.egress
        )
        deadline = time.monotonic() + 10
        while delivery(ident, env.event_id).status == "pending" and time.monotonic() < deadline:
            dispatcher.run_once()
            time.sleep(0.02)
        dispatcher.close()
        assert len(rx.received) == 1
        got = rx.received[0]
        assert got["headers"]["X-Kepu-Event"] == "project.approved"
        assert got["headers"]["X-Kepu-Delivery"] == env.event_id
        body = got["body"]
        assert (body["type"], body["partner"], body["consent_id"]) == (
            "project.approved",
            cid,
            "c-9",
        )
        assert body["data"]["name"] == "浉河区茶园科普示范基地"
        assert body["data"]["library_no"] == "2026-XY-001"
        h = got["headers"]
        assert webhooks.verify(
            holder["secret"], got["raw"], h["X-Kepu-Timestamp"], h["X-Kepu-Signature"]
        )
        assert delivery(ident, env.event_id).status == "delivered"
    finally:
        rx.close()
