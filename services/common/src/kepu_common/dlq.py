"""``python -m kepu_common.dlq size | replay <topic> [--bootstrap host:port]``: dead letters.

``size`` shows how many dead letters wait in every ``<svc>.events.dlq`` (the records past the
replay group's offset, as the ``kepu.dlq.size`` metric counts them). After fixing the cause of a
failing handler, the operator replays ``<topic>.dlq`` into ``<topic>``; consumers are
idempotent, so events that did succeed meanwhile are not applied twice. ``make run`` has the
same as ``python -m kepu_devstack dlq [replay <topic>]`` (it knows the local broker's address);
in a cluster run it in any service pod (the chart's ``KAFKA_BOOTSTRAP_SERVERS`` is set there).
"""

from __future__ import annotations

import argparse
import os
import sys

from .bus import DLQ_SUFFIX, event_topics
from .consumer import replay_dlq


def sizes(bootstrap: str) -> dict[str, int]:
    """Dead letters waiting per DLQ topic (topics the broker does not have yet are left out)."""
    from .metrics import DlqGauge

    topics = [t.name for t in event_topics() if t.name.endswith(DLQ_SUFFIX)]
    gauge = DlqGauge(bootstrap, topics)
    try:
        found = {t: gauge._size(t) for t in topics}  # noqa: SLF001 - the metric's own count
    finally:
        gauge.close()
    return {t: n for t, n in found.items() if n is not None}


def main(argv: list[str] | None = None, bootstrap: str | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kepu_common.dlq")
    sub = parser.add_subparsers(dest="cmd", required=True)
    size = sub.add_parser("size", help="dead letters waiting in every <svc>.events.dlq")
    replay = sub.add_parser("replay", help="move every record of <topic>.dlq back to <topic>")
    replay.add_argument("topic")
    for p in (size, replay):
        p.add_argument(
            "--bootstrap",
            default=bootstrap or os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"),
        )
    args = parser.parse_args(argv)
    if args.cmd == "size":
        found = sizes(args.bootstrap)
        for topic, n in sorted(found.items()):
            sys.stdout.write(f"{topic}\t{n}\n")
        sys.stdout.write(f"死信共 {sum(found.values())} 条 / {sum(found.values())} dead letters\n")
        return 0
    moved = replay_dlq(args.bootstrap, args.topic)
    sys.stdout.write(f"replayed {moved} events from {args.topic}.dlq to {args.topic}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
