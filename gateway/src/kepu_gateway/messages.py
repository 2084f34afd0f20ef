"""Proto messages as the JSON the API answers, written once for every router."""

from __future__ import annotations

from typing import Any

from google.protobuf import json_format
from google.protobuf.message import Message


def as_dict(message: Message) -> dict[str, Any]:
    """``message`` as a JSON object: field names as in the proto (``tenant_id``), every field
    present (an empty list as ``[]``, an unset number as ``0``), so a client's types hold."""
    return json_format.MessageToDict(
        message, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
    )
