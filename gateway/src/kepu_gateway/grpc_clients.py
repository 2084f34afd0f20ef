"""gRPC stubs towards the services, with deadlines and the caller's token forwarded."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar

import grpc
from kepu_common.grpcio import CLIENT_IP_KEY, channel, metadata

from .deps import Caller
from .problems import from_grpc

T = TypeVar("T")
_channels: dict[str, grpc.Channel] = {}
_stubs: dict[tuple[str, Any], Any] = {}


def target(service: str) -> str:
    return os.environ.get(f"{service.upper()}_GRPC_TARGET", "127.0.0.1:50051")


def stub(service: str, stub_cls: Callable[[grpc.Channel], T]) -> T:
    key = (service, stub_cls)
    if key not in _stubs:
        if service not in _channels:
            _channels[service] = channel(target(service))
        _stubs[key] = stub_cls(_channels[service])
    return _stubs[key]


def call(method: Callable[..., T], request: Any, caller: Caller, timeout: float = 5.0) -> T:
    """Invoke ``method`` with a deadline, forwarding the caller's token; gRPC errors become problems."""
    try:
        extra = {CLIENT_IP_KEY: caller.client_ip} if caller.client_ip else None
        return method(request, timeout=timeout, metadata=metadata(caller.token, extra))
    except grpc.RpcError as err:
        raise from_grpc(err) from None


def close_all() -> None:
    for ch in _channels.values():
        ch.close()
    _channels.clear()
    _stubs.clear()
