"""``python -m kepu_common.dlq replay <topic> [--bootstrap host:port]``: move dead letters back.

After fixing the cause of a failing handler, the operator replays ``<topic>.dlq`` into
``<topic>``; consumers are idempotent, so events that did succeed meanwhile are not applied twice.
"""

from __future__ import annotations

import argparse
import os
import sys

from .consumer import replay_dlq


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kepu_common.dlq")
    sub = parser.add_subparsers(dest="cmd", required=True)
    replay = sub.add_parser("replay", help="move every record of <topic>.dlq back to <topic>")
    replay.add_argument("topic")
    replay.add_argument(
        "--bootstrap", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    )
    args = parser.parse_args(argv)
    moved = replay_dlq(args.bootstrap, args.topic)
    sys.stdout.write(f"replayed {moved} events from {args.topic}.dlq to {args.topic}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
