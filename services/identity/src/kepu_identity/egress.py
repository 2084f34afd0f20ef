"""Where the platform may send webhooks: public addresses, plus an explicit allow-list.

A webhook URL is chosen by a partner's registrar, so it must not point the worker at our
own network (loopback, the cloud metadata address 169.254.169.254, private ranges). The
URL is checked when it is registered and again at every delivery, after resolving its host
name, and the request then goes to the very address that was checked (so a DNS answer that
changes in between — DNS rebinding — cannot redirect it). An on-premise bank on a private
network is allowed only through ``WEBHOOK_ALLOWED_NETWORKS`` (CIDRs, comma-separated).
"""

from __future__ import annotations

import ipaddress
import socket
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass

from kepu_common.errors import InvalidArgument

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def literal_address(host: str) -> IPAddress | None:
    """The address a host name denotes by itself, in any form a resolver accepts
    (``127.0.0.1``, ``[::1]``, ``2130706433``, ``0x7f.1``); None for a real name."""
    host = host.strip("[]")
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    try:  # the BSD forms: a single integer, octal/hex parts, fewer than four parts
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


def is_public(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global
    )


@dataclass(frozen=True)
class Target:
    """A checked destination: the address to connect to and the name to present."""

    url: str  # the URL with its host replaced by the checked address
    host: str  # the original host name (TLS server name)
    host_header: str  # the original host[:port] (HTTP Host header)


@dataclass(frozen=True)
class Egress:
    allowed: tuple[IPNetwork, ...] = ()

    @classmethod
    def parse(cls, setting: str) -> Egress:
        """``WEBHOOK_ALLOWED_NETWORKS``: e.g. ``10.8.0.0/16,192.168.10.5`` (empty: none)."""
        nets = [n.strip() for n in (setting or "").split(",") if n.strip()]
        try:
            return cls(tuple(ipaddress.ip_network(n, strict=False) for n in nets))
        except ValueError as exc:
            raise SystemExit(f"WEBHOOK_ALLOWED_NETWORKS 格式不正确：{exc}") from None

    def permits(self, address: IPAddress) -> bool:
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return any(address in net for net in self.allowed) or is_public(address)

    def _refuse(self) -> InvalidArgument:
        return InvalidArgument(
            "回调地址不能指向本机、内网、链路本地或保留地址；"
            "如合作机构部署在内网，请由平台运维将其网段加入 WEBHOOK_ALLOWED_NETWORKS。"
        )

    def check_url(self, url: str) -> None:
        """At registration: a literal address, or a name that resolves now, must be permitted.
        A name that does not resolve yet is accepted; delivery checks it again."""
        host = urllib.parse.urlsplit(url).hostname or ""
        literal = literal_address(host)
        if literal is not None:
            if not self.permits(literal):
                raise self._refuse()
            return
        try:
            addresses = self.resolve(host)
        except OSError:
            return
        if not all(self.permits(a) for a in addresses):
            raise self._refuse()

    @staticmethod
    def resolve(host: str) -> list[IPAddress]:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
        return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]

    def target(self, url: str) -> Target:
        """At delivery: resolve, refuse if any address is not permitted, pin the first one.

        Raises ``InvalidArgument`` (refused) or ``OSError`` (the name does not resolve)."""
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname or ""
        literal = literal_address(host)
        addresses: Iterable[IPAddress] = [literal] if literal is not None else self.resolve(host)
        checked = list(addresses)
        if not checked or not all(self.permits(a) for a in checked):
            raise self._refuse()
        first = checked[0]
        shown = f"[{first}]" if first.version == 6 else str(first)
        netloc = shown + (f":{parts.port}" if parts.port else "")
        return Target(urllib.parse.urlunsplit(parts._replace(netloc=netloc)), host, parts.netloc)
