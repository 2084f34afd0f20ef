"""Proto messages as the JSON the API answers, written once for every router.

``as_dict`` turns a message into the JSON object a route returns; ``model`` is the Pydantic
model of that object, built from the message's descriptor, so each route can declare it as
its ``response_model`` and the OpenAPI document (and the SPA's generated types) describe every
answer without a second, hand-written copy of the proto fields.
"""

from __future__ import annotations

from functools import cache
from typing import Any, ClassVar, Optional

from google.protobuf import json_format
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message
from pydantic import (
    BaseModel,
    ConfigDict,
    SerializerFunctionWrapHandler,
    create_model,
    model_serializer,
)
from pydantic import Field as PydanticField

_INT64 = {
    FieldDescriptor.TYPE_INT64,
    FieldDescriptor.TYPE_UINT64,
    FieldDescriptor.TYPE_SINT64,
    FieldDescriptor.TYPE_FIXED64,
    FieldDescriptor.TYPE_SFIXED64,
}
_INT32 = {
    FieldDescriptor.TYPE_INT32,
    FieldDescriptor.TYPE_UINT32,
    FieldDescriptor.TYPE_SINT32,
    FieldDescriptor.TYPE_FIXED32,
    FieldDescriptor.TYPE_SFIXED32,
}
_FLOAT = {FieldDescriptor.TYPE_FLOAT, FieldDescriptor.TYPE_DOUBLE}
# Well-known types as proto3 JSON writes them.
_WELL_KNOWN: dict[str, Any] = {
    "google.protobuf.Struct": dict[str, Any],
    "google.protobuf.Value": Any,
    "google.protobuf.ListValue": list[Any],
    "google.protobuf.Timestamp": str,
    "google.protobuf.Duration": str,
    "google.protobuf.FieldMask": str,
    "google.protobuf.StringValue": str,
    "google.protobuf.BytesValue": str,
    "google.protobuf.BoolValue": bool,
    "google.protobuf.Int32Value": int,
    "google.protobuf.UInt32Value": int,
    "google.protobuf.Int64Value": str,
    "google.protobuf.UInt64Value": str,
    "google.protobuf.FloatValue": float,
    "google.protobuf.DoubleValue": float,
}


def as_dict(message: Message, *, numbers: bool = False) -> dict[str, Any]:
    """``message`` as a JSON object: field names as in the proto (``tenant_id``), every field
    present (an empty list as ``[]``, an unset number as ``0``), so a client's types hold.

    ``numbers``: 64-bit integers as JSON numbers (proto3 JSON writes them as strings, "120")
    and whole doubles as integers (a report's values are Struct doubles: 120, not 120.0)."""
    data = json_format.MessageToDict(
        message, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
    )
    return _whole(_int64_as_numbers(message, data)) if numbers else data


def _int64_as_numbers(message: Message, data: dict[str, Any]) -> dict[str, Any]:
    for f in message.DESCRIPTOR.fields:
        if f.name not in data:
            continue
        if f.type in _INT64:
            value = data[f.name]
            data[f.name] = [int(v) for v in value] if f.is_repeated else int(value)
        elif f.message_type is not None and f.message_type.full_name not in _WELL_KNOWN:
            if f.message_type.GetOptions().map_entry:
                continue
            sub = getattr(message, f.name)
            pairs = zip(sub, data[f.name], strict=True) if f.is_repeated else [(sub, data[f.name])]
            for m, d in pairs:
                _int64_as_numbers(m, d)
    return data


def _whole(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _whole(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_whole(v) for v in value]
    return value


class ProtoModel(BaseModel):
    """The JSON of one proto message. A field with presence (a message, ``optional``, a
    ``oneof`` member) that the message leaves unset is absent from ``as_dict``'s answer and
    stays absent here (never ``null``), so the answer keeps exactly the keys it had."""

    model_config = ConfigDict(extra="forbid")
    presence_fields: ClassVar[frozenset[str]] = frozenset()

    # No return annotation: the OpenAPI document then shows the model's own fields.
    @model_serializer(mode="wrap")
    def _keep_keys(self, handler: SerializerFunctionWrapHandler):  # type: ignore[no-untyped-def]
        data: dict[str, Any] = handler(self)
        optional = type(self).presence_fields
        return {k: v for k, v in data.items() if k not in optional or k in self.model_fields_set}


def model(message: type[Message], *, numbers: bool = False) -> type[ProtoModel]:
    """The response model of ``as_dict(message(), numbers=numbers)``."""
    return _model(message.DESCRIPTOR, numbers)


# (schema name, numbers) -> model, None while it is being built: self-referencing messages
# (Indicator.subs) refer to themselves by name and are completed by model_rebuild.
_BUILT: dict[tuple[str, bool], Any] = {}


def list_of(message: type[Message], *, numbers: bool = False) -> Any:
    """The response model of a JSON array of ``as_dict`` answers."""
    return list[model(message, numbers=numbers)]  # type: ignore[misc]


@cache
def _model(descriptor: Descriptor, numbers: bool) -> type[ProtoModel]:
    name = _name(descriptor, numbers)
    _BUILT.setdefault((name, numbers), None)
    fields: dict[str, Any] = {}
    optional: set[str] = set()
    for f in descriptor.fields:
        kind = _field_type(f, numbers)
        if f.has_presence and not f.is_repeated:
            optional.add(f.name)
            # Optional[...] rather than ``| None``: kind may be a forward reference (a string).
            fields[f.name] = (Optional[kind], PydanticField(default=None))  # noqa: UP045
        else:
            fields[f.name] = (kind, ...)
    cls = create_model(name, __base__=ProtoModel, __module__=__name__, **fields)
    cls.presence_fields = frozenset(optional)
    _BUILT[name, numbers] = cls
    if not cls.__pydantic_complete__:
        cls.model_rebuild(
            _types_namespace={n: c for (n, num), c in _BUILT.items() if num == numbers}
        )
    return cls


def _name(descriptor: Descriptor, numbers: bool) -> str:
    """A schema name unique across packages: kepu.assessment.v1.Scheme -> AssessmentScheme."""
    package = descriptor.file.package.split(".")
    service = package[1] if len(package) > 1 else package[0]
    local = descriptor.full_name[len(descriptor.file.package) + 1 :].replace(".", "")
    return service.capitalize() + local


def _field_type(f: FieldDescriptor, numbers: bool) -> Any:
    if f.message_type is not None and f.message_type.GetOptions().map_entry:
        value = f.message_type.fields_by_name["value"]
        return dict[str, _scalar(value, numbers)]  # type: ignore[misc]
    kind = _scalar(f, numbers)
    return list[kind] if f.is_repeated else kind  # type: ignore[valid-type]


def _scalar(f: FieldDescriptor, numbers: bool) -> Any:
    if f.message_type is not None:
        known = _WELL_KNOWN.get(f.message_type.full_name)
        if known is not None:
            return known
        name = _name(f.message_type, numbers)
        if (name, numbers) in _BUILT and _BUILT[name, numbers] is None:
            return name  # still being built: a forward reference, resolved by model_rebuild
        return _model(f.message_type, numbers)
    if f.type in _INT64:
        return int if numbers else str
    if f.type in _INT32:
        return int
    if f.type in _FLOAT:
        return int | float if numbers else float
    if f.type == FieldDescriptor.TYPE_BOOL:
        return bool
    return str  # string, bytes (base64), enum (its name)
