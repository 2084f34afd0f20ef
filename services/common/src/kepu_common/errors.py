"""Domain error types. Each carries a Chinese ``detail`` shown to users.

They are mapped once to gRPC status codes (``grpc_status``) and once, in the
gateway, from gRPC status codes to HTTP (SPEC section 7).
"""

from __future__ import annotations

import grpc


class DomainError(Exception):
    """Base class: ``detail`` is the Chinese message for the user."""

    grpc_status: grpc.StatusCode = grpc.StatusCode.INTERNAL
    title = "Internal error"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(DomainError):
    grpc_status = grpc.StatusCode.NOT_FOUND
    title = "Not found"


class PermissionDenied(DomainError):
    grpc_status = grpc.StatusCode.PERMISSION_DENIED
    title = "Forbidden"


class InvalidArgument(DomainError):
    grpc_status = grpc.StatusCode.INVALID_ARGUMENT
    title = "Invalid input"


class Conflict(DomainError):
    """The action is not allowed in the record's current state (409)."""

    grpc_status = grpc.StatusCode.FAILED_PRECONDITION
    title = "Conflict"


class AlreadyExists(DomainError):
    grpc_status = grpc.StatusCode.ALREADY_EXISTS
    title = "Already exists"


class Unauthenticated(DomainError):
    grpc_status = grpc.StatusCode.UNAUTHENTICATED
    title = "Unauthorized"


class Unavailable(DomainError):
    grpc_status = grpc.StatusCode.UNAVAILABLE
    title = "Service unavailable"
