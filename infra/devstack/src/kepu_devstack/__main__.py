"""``python -m kepu_devstack run``: the whole platform on this machine (``make run``)."""

from __future__ import annotations

import os
import signal
import sys
import threading
from pathlib import Path

from .stack import Stack, available_services


def main(argv: list[str] | None = None) -> int:
    argv = argv if argv is not None else sys.argv[1:]
    if argv and argv[0] == "engines":
        return _engines()
    if argv and argv[0] == "dlq":
        return _dlq(argv[1:])
    if not argv or argv[0] != "run":
        print(
            "usage: python -m kepu_devstack run | engines | dlq [replay <topic>]", file=sys.stderr
        )
        return 2
    var_dir = Path(os.environ.get("KEPU_VAR_DIR", ".var")).resolve()
    stack = Stack(
        var_dir=var_dir,
        gateway_port=int(os.environ.get("GATEWAY_PORT", "8000")),
        admin_mfa=os.environ.get("ADMIN_MFA", "optional"),
    )
    print(f"启动中（数据目录 {var_dir}）……", flush=True)
    try:
        stack.start()
    except Exception as exc:  # noqa: BLE001 - report and clean up whatever started
        print(f"启动失败：{exc}", file=sys.stderr)
        stack.stop()
        return 1
    print(
        f"\n科普云服务平台已启动 / Kepu Cloud is running\n"
        f"  门户 Portal:        {stack.gateway_url}/\n"
        f"  接口文档 OpenAPI:   {stack.gateway_url}/docs\n"
        f"  OIDC 发现:          {stack.issuer}/.well-known/openid-configuration\n"
        f"  演示账号 Demo login: {stack.admin_user} / {stack.admin_password}（河南省科协管理员）\n"
        f"  服务 Services:      {', '.join(available_services())}\n"
        f"  日志 Logs:          {var_dir / 'logs'}\n"
        f"按 Ctrl-C 停止。Press Ctrl-C to stop.",
        flush=True,
    )
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    (var_dir / "kafka.bootstrap").write_text(stack.env["KAFKA_BOOTSTRAP_SERVERS"])  # for dlq
    stack.supervise()  # a crashed process, the broker or PostgreSQL is restarted with backoff
    stop.wait()
    print("正在停止……", flush=True)
    stack.stop()
    print("已停止。", flush=True)
    return 0


def _dlq(args: list[str]) -> int:
    """Dead letters of the running ``make run``: their number per topic, or ``replay <topic>``."""
    from kepu_common import dlq

    var_dir = Path(os.environ.get("KEPU_VAR_DIR", ".var")).resolve()
    known = var_dir / "kafka.bootstrap"
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS") or (
        known.read_text().strip() if known.exists() else None
    )
    if bootstrap is None:
        print(f"找不到正在运行的平台（{known} 不存在）；请先 make run。", file=sys.stderr)
        return 1
    return dlq.main(args or ["size"], bootstrap=bootstrap)


def _engines() -> int:
    """Fetch Keycloak and Apache Kafka through Maven now (``make test`` does it first)."""
    from . import engines

    try:
        engines.prepare_all()
    except engines.EngineUnavailable as exc:
        print(f"无法准备 Keycloak / Apache Kafka：{exc}", file=sys.stderr)
        return 1
    v = engines.versions()
    print(
        f"engines ready: Keycloak {v['keycloak']}, Apache Kafka {v['kafka']} in {engines.cache_dir()}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
