"""Signed webhooks to partners (HMAC-SHA256, retries with exponential backoff).

Two halves in the identity ``worker`` process:

- the idempotent consumer ``identity.partner_webhooks`` (``consumers.handle_partner_notice``)
  records a pending row in ``webhook_deliveries`` for each partner notice, in the consumer's
  transaction, with the exact JSON body that will be signed (``delivery_body``).
- ``WebhookDispatcher`` is a separate loop that claims due rows, POSTs them outside any
  transaction (a thread pool, short timeouts) and records the outcome; a failing endpoint
  only delays its own deliveries (1 s, 2 s, 4 s … up to ``max_attempts``).

Headers: ``X-Kepu-Event``, ``X-Kepu-Delivery`` (the event id), ``X-Kepu-Timestamp`` (Unix
seconds of the attempt) and ``X-Kepu-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<raw
body>">``. The timestamp is signed with the body (as Stripe does), so a receiver that refuses
timestamps older than ``TOLERANCE_SECONDS`` cannot be fed a recorded delivery again; the
verification is documented in docs/partner-api.md.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import httpx
from google.protobuf.json_format import MessageToDict
from google.protobuf.message import Message
from kepu.events.v1 import envelope_pb2
from kepu.projects.v1 import projects_pb2
from kepu.talent.v1 import talent_pb2
from kepu_common.db import Database, Scope
from kepu_common.errors import InvalidArgument

from . import domain
from . import repository as repo
from .crypto import Sealer
from .egress import Egress

log = logging.getLogger(__name__)

TOLERANCE_SECONDS = 300  # how old a delivery's timestamp a receiver should accept


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=`` + hex HMAC-SHA256 of ``<timestamp>.<body>`` with the webhook secret."""
    signed = timestamp.encode() + b"." + body
    return "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def verify(
    secret: str,
    body: bytes,
    timestamp: str,
    signature: str,
    *,
    now: float | None = None,
    tolerance: int = TOLERANCE_SECONDS,
) -> bool:
    """What a partner does with a delivery: a fresh timestamp and a matching signature."""
    if not timestamp.isdigit():
        return False
    if abs((time.time() if now is None else now) - int(timestamp)) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature or "")


def delivery_body(
    envelope: envelope_pb2.EventEnvelope,
    notice: talent_pb2.PartnerNotice | projects_pb2.PartnerNotice,
    data: Message,
) -> str:
    """The JSON a partner receives for a notice (signed as it is stored)."""
    body = {
        "id": envelope.event_id,
        "type": notice.event,
        "occurred_at": notice.occurred_at or envelope.occurred_at.ToJsonString(),
        "partner": notice.partner_client_id,
        "consent_id": notice.consent_id,
        "data": MessageToDict(
            data,
            preserving_proto_field_name=True,
            always_print_fields_with_no_presence=True,
        ),
    }
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True)
class Due:
    id: str
    client_id: str
    event_type: str
    url: str
    body: str
    attempts: int


class WebhookDispatcher:
    """Delivers pending webhook rows; safe to run in several processes (rows are leased)."""

    def __init__(
        self,
        db: Database,
        sealer: Sealer,
        *,
        backoff_seconds: float = 1.0,
        max_attempts: int = 6,
        timeout: float = 5.0,
        workers: int = 4,
        batch: int = 20,
        egress: Egress | None = None,
    ) -> None:
        self.db = db
        self.egress = egress or Egress()
        self.sealer = sealer
        self.backoff_seconds = backoff_seconds
        self.max_attempts = max_attempts
        self.timeout = timeout
        self.batch = batch
        self.workers = workers
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="webhook")
        self.http = httpx.Client(timeout=timeout, follow_redirects=False)

    def claim(self, limit: int | None = None) -> list[Due]:
        """Lease due rows (their next attempt moves past the HTTP timeout while in flight)."""
        lease = self.timeout * 2 + 5
        with self.db.unit_of_work(Scope.system_scope()) as s:
            rows = repo.lease_due_deliveries(s, limit or self.batch, lease)
        return [Due(r.id, r.client_id, r.event_type, r.url, r.body, r.attempts) for r in rows]

    def secret_of(self, client_id: str) -> str | None:
        with self.db.unit_of_work(Scope.system_scope()) as s:
            target = repo.webhook_target(s, client_id)
        if target is None:
            return None
        return self.sealer.open(target.webhook_secret, domain.seal_context(client_id)).decode()

    def deliver(self, due: Due) -> bool:
        """One attempt; records the outcome. True when the partner acknowledged (2xx)."""
        secret = self.secret_of(due.client_id)
        if secret is None:  # the partner was disabled meanwhile
            self.finish(due, "skipped", None, "合作机构已停用")
            return False
        body = due.body.encode()
        timestamp = str(int(time.time()))  # of this attempt: each retry is signed afresh
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "KepuCloud-Webhook/1.0",
            "X-Kepu-Event": due.event_type,
            "X-Kepu-Delivery": due.id,
            "X-Kepu-Timestamp": timestamp,
            "X-Kepu-Signature": sign(secret, timestamp, body),
        }
        code: int | None = None
        try:
            # Resolved and checked now, and sent to the checked address (no DNS rebinding).
            target = self.egress.target(due.url)
        except InvalidArgument as exc:
            self.finish(due, "failed", None, exc.detail)
            return False
        except OSError as exc:  # the name does not resolve (yet): retried like a refusal
            target, error = None, f"DNS: {exc}"[:500]
        if target is not None:
            headers["Host"] = target.host_header
            try:
                r = self.http.post(
                    target.url,
                    content=body,
                    headers=headers,
                    extensions={"sni_hostname": target.host},
                )
                code = r.status_code
                error = "" if 200 <= code < 300 else f"HTTP {code}"
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"[:500]
        if not error:
            self.finish(due, "delivered", code, "")
            return True
        attempts = due.attempts + 1
        if attempts >= self.max_attempts:
            self.finish(due, "failed", code, error)
        else:
            delay = self.backoff_seconds * 2 ** (attempts - 1)
            with self.db.unit_of_work(Scope.system_scope()) as s:
                repo.retry_delivery_later(s, due.id, attempts, code, error, delay)
        return False

    def finish(self, due: Due, status: str, code: int | None, error: str) -> None:
        with self.db.unit_of_work(Scope.system_scope()) as s:
            repo.finish_delivery(s, due.id, status, code, error)

    def _safe_deliver(self, due: Due) -> bool:
        try:
            return self.deliver(due)
        except Exception:  # a bug in one delivery must not stop the loop; the lease retries it
            log.exception("webhook delivery %s failed unexpectedly", due.id)
            return False

    def run_once(self) -> int:
        """Claim and deliver one batch concurrently; returns how many were attempted."""
        due = self.claim()
        list(self.pool.map(self._safe_deliver, due))
        return len(due)

    def run(self, stop: threading.Event, idle_sleep: float = 0.5) -> None:
        """Keep up to ``workers`` deliveries in flight; never wait for a slow endpoint."""
        inflight: set[Future[bool]] = set()
        while not stop.is_set():
            inflight = {f for f in inflight if not f.done()}
            free = self.workers - len(inflight)
            try:
                due = self.claim(free) if free > 0 else []
            except Exception:  # database away: keep the worker alive and try again
                log.exception("webhook dispatcher could not claim deliveries; retrying")
                stop.wait(2.0)
                continue
            for d in due:
                inflight.add(self.pool.submit(self._safe_deliver, d))
            if not due:
                stop.wait(idle_sleep if free > 0 else 0.05)
        self.close()

    def close(self) -> None:
        self.pool.shutdown(wait=True)
        self.http.close()
