"""The local Apache Kafka: a start that fails says it is Kafka and where its log is."""

import socket

import pytest
from kepu_devstack.kafka import KafkaServer, KafkaUnavailable


@pytest.mark.integration  # starts its own engine, not through a fixture
def test_a_kafka_that_cannot_start_names_kafka_and_its_log(tmp_path):
    with socket.socket() as taken:  # another process holds the broker's port
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        server = KafkaServer(tmp_path / "kafka", port=taken.getsockname()[1])
        with pytest.raises(KafkaUnavailable) as failure:
            server.start()
    message = str(failure.value)
    assert "Apache Kafka" in message
    assert str(server.log_path) in message
    assert server.proc is None  # nothing left running
