"""Domain error types. Each carries a Chinese ``detail`` shown to users.

They are mapped once to gRPC status codes (``grpc_status``) and once, in the
gateway, from gRPC status codes to HTTP (SPEC section 7).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import grpc


@dataclass(frozen=True)
class FieldViolation:
    """One bad field of a request: ``field`` is its key (``reason``, ``members.0.name``) so a
    form can mark the input; ``message`` is Chinese and names the field by its label."""

    field: str
    message: str


class DomainError(Exception):
    """Base class: ``detail`` is the Chinese message for the user; ``violations`` the fields at
    fault (``errors=`` or, for one field, ``field=``).

    They travel as gRPC ``BadRequest.field_violations`` and reach the caller as the
    ``errors`` array of the problem+json (``kepu_common.grpcio.abort``, the gateway's
    ``problems.from_grpc``).
    """

    grpc_status: grpc.StatusCode = grpc.StatusCode.INTERNAL
    title = "Internal error"

    def __init__(
        self, detail: str, *, field: str = "", errors: Sequence[FieldViolation] = ()
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        if not errors and field:  # one field at fault: the detail is its message
            errors = (FieldViolation(field, detail),)
        self.violations: tuple[FieldViolation, ...] = tuple(errors)


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
