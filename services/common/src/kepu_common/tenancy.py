"""The verified caller and tenant-path rules shared by all services."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

PATH_RE = re.compile(r"^[0-9A-Za-z_]+(\.[0-9A-Za-z_]+)*$")


@dataclass(frozen=True)
class Principal:
    """Who is calling, as stated by a verified access token."""

    subject: str
    username: str
    tenant_id: str
    tenant_path: str
    tenant_kind: str
    roles: frozenset[str] = field(default_factory=frozenset)
    scopes: frozenset[str] = field(default_factory=frozenset)
    client_id: str = ""
    client_ip: str = ""  # the source address the gateway saw, for audit entries

    def has_role(self, role: str) -> bool:
        return role in self.roles

    def sees(self, path: str) -> bool:
        """True when ``path`` is the caller's tenant or one of its descendants."""
        return is_descendant_or_self(path, self.tenant_path)


def is_descendant_or_self(path: str, ancestor: str) -> bool:
    return path == ancestor or path.startswith(ancestor + ".")


def is_direct_child(path: str, parent: str) -> bool:
    return path.startswith(parent + ".") and "." not in path[len(parent) + 1 :]


def validate_path(path: str) -> str:
    if not path or not PATH_RE.match(path):
        raise ValueError(f"invalid tenant path {path!r}")
    return path
