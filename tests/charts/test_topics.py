"""The event topics the local brokers get are the ones the chart's KafkaTopic objects declare.

``kepu_common.bus`` holds the topic settings in Python (``ensure_topics`` and the local Kafka
create topics with them); the umbrella chart renders them from ``values.yaml``. Equal here,
so neither can change alone.
"""

from __future__ import annotations

from conftest import Rendered
from kepu_common.bus import event_topics


def test_python_topic_settings_equal_the_charts_kafka_topics(umbrella: Rendered) -> None:
    rendered = {
        t["spec"]["topicName"]: (t["spec"]["partitions"], int(t["spec"]["config"]["retention.ms"]))
        for t in umbrella.of_kind("KafkaTopic")
    }
    declared = {t.name: (t.partitions, t.retention_ms) for t in event_topics()}
    assert rendered == declared
