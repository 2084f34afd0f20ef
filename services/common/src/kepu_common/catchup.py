"""Ready only once a read model has caught up (issue 13 item 2).

A service that answers from a read model of another service's events (the tenant directory fed
by ``identity.events``) is not ready while that model is still filling: a city asking in that
window gets a 403 for a tenant the service does not know yet. :class:`CatchUp` measures the
topic's end offsets once, at the first check, and reports caught up when the consumer group
has committed that far; it then stays caught up (later lag is the consumer's business, shown
by ``kepu_consumer_lag``, not a reason to take the service out of rotation). It gives up
waiting after ``give_up_seconds`` so that an unreachable broker at start-up delays readiness
but never keeps a service out for good.
"""

from __future__ import annotations

import logging
import threading
import time

from kafka import KafkaConsumer, TopicPartition
from kafka.errors import KafkaError

from .bus import CLIENT_SETTINGS

log = logging.getLogger(__name__)

CHECK_SECONDS = 0.5
GIVE_UP_SECONDS = 120.0


class CatchUp:
    def __init__(
        self,
        bootstrap: str,
        *,
        group: str,
        topic: str,
        give_up_seconds: float = GIVE_UP_SECONDS,
    ) -> None:
        self.bootstrap = bootstrap
        self.group = group
        self.topic = topic
        self.give_up_seconds = give_up_seconds
        self._started = time.monotonic()
        self._target: dict[TopicPartition, int] | None = None
        self._done = False
        self._gave_up = False

    def __call__(self) -> bool:
        """Caught up (or given up on); cheap, for the health publisher."""
        if not self._done and time.monotonic() - self._started > self.give_up_seconds:
            if not self._gave_up:
                self._gave_up = True
                log.warning(
                    "read model %s has not caught up with %s in %.0f s; ready anyway",
                    self.group,
                    self.topic,
                    self.give_up_seconds,
                )
            return True
        return self._done

    def start(self, stop: threading.Event) -> None:
        threading.Thread(target=self._run, args=(stop,), name="catch-up", daemon=True).start()

    def _run(self, stop: threading.Event) -> None:
        consumer: KafkaConsumer | None = None
        while not stop.is_set() and not self._done:
            try:
                if consumer is None:
                    consumer = KafkaConsumer(
                        bootstrap_servers=self.bootstrap,
                        group_id=self.group,
                        enable_auto_commit=False,
                        **CLIENT_SETTINGS,
                    )
                self._done = self.check(consumer)
            except (KafkaError, OSError) as exc:
                log.info("read model %s: broker not reachable yet (%s)", self.group, exc)
                if consumer is not None:
                    consumer.close()
                consumer = None
            if not self._done:
                stop.wait(CHECK_SECONDS)
        if consumer is not None:
            consumer.close()
        if self._done:
            log.info("read model %s caught up with %s", self.group, self.topic)

    def check(self, consumer: KafkaConsumer) -> bool:
        """One comparison of the group's committed offsets with the target end offsets."""
        partitions = consumer.partitions_for_topic(self.topic)
        if not partitions:  # nothing was ever published: nothing to catch up with
            log.info("read model %s: %s has no partitions yet", self.group, self.topic)
            return True
        tps = [TopicPartition(self.topic, p) for p in sorted(partitions)]
        if self._target is None:
            self._target = {tp: int(o) for tp, o in consumer.end_offsets(tps).items()}
            log.info(
                "read model %s: catching up with %s",
                self.group,
                ", ".join(f"{tp.topic}[{tp.partition}]@{o}" for tp, o in self._target.items()),
            )
        return all(
            (consumer.committed(tp) or 0) >= self._target.get(tp, 0)
            for tp in tps  # a partition added later has no target: it does not hold us back
        )
