"""The typed edge: every route declares what it answers, and the models built from the proto
messages keep each answer exactly as ``as_dict`` writes it (same keys, same values)."""

from __future__ import annotations

import importlib
import json
from typing import Any

import pytest
from fastapi import Response
from fastapi.routing import APIRoute
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from kepu_gateway.app import create_app
from kepu_gateway.messages import as_dict, model
from pydantic import ValidationError

PROTO_MODULES = [
    "kepu.assessment.v1.assessment_pb2",
    "kepu.assessment.v1.workplans_pb2",
    "kepu.identity.v1.identity_pb2",
    "kepu.projects.v1.projects_pb2",
    "kepu.reporting.v1.reporting_pb2",
    "kepu.reporting.v1.stations_pb2",
    "kepu.talent.v1.talent_pb2",
]


def answers() -> list[type[Message]]:
    """Every message an RPC answers with (what the routers return)."""
    found: dict[str, type[Message]] = {}
    for name in PROTO_MODULES:
        module = importlib.import_module(name)
        for service in module.DESCRIPTOR.services_by_name.values():
            for method in service.methods:
                out = method.output_type
                found[out.full_name] = _class(out)
    return sorted(found.values(), key=lambda c: c.DESCRIPTOR.full_name)


def _class(descriptor: Any) -> type[Message]:
    from google.protobuf import message_factory

    return message_factory.GetMessageClass(descriptor)


def fill(message: Message, depth: int = 0) -> Message:
    """``message`` with every field set to a telling value (one element per list)."""
    for f in message.DESCRIPTOR.fields:
        if f.containing_oneof is not None and message.WhichOneof(f.containing_oneof.name):
            continue
        if f.message_type is not None and f.message_type.GetOptions().map_entry:
            getattr(message, f.name)["k"] = sample(f.message_type.fields_by_name["value"])
            continue
        if f.message_type is not None:
            if f.message_type.full_name == "google.protobuf.Struct":
                getattr(message, f.name).update({"n": 120, "x": 1.5, "s": "文字", "l": ["a"]})
                continue
            if depth > 2:
                continue
            if f.is_repeated:
                fill(getattr(message, f.name).add(), depth + 1)
            else:
                fill(getattr(message, f.name), depth + 1)
            continue
        value = sample(f)
        if f.is_repeated:
            getattr(message, f.name).append(value)
        else:
            setattr(message, f.name, value)
    return message


def sample(f: FieldDescriptor) -> Any:
    if f.type == FieldDescriptor.TYPE_ENUM:
        return f.enum_type.values[-1].number
    if f.type == FieldDescriptor.TYPE_MESSAGE:
        return _class(f.message_type)()
    if f.type == FieldDescriptor.TYPE_BOOL:
        return True
    if f.type == FieldDescriptor.TYPE_STRING:
        return "值"
    if f.type == FieldDescriptor.TYPE_BYTES:
        return b"\x00\x01"
    if f.cpp_type in (FieldDescriptor.CPPTYPE_FLOAT, FieldDescriptor.CPPTYPE_DOUBLE):
        return 2.5
    if f.cpp_type in (FieldDescriptor.CPPTYPE_INT64, FieldDescriptor.CPPTYPE_UINT64):
        return 2**40
    return 7


def through_model(message: Message, numbers: bool) -> dict[str, Any]:
    """What FastAPI sends for ``as_dict(message)`` under the message's response model."""
    data = as_dict(message, numbers=numbers)
    return json.loads(
        json.dumps(
            model(type(message), numbers=numbers).model_validate(data).model_dump(mode="json")
        )
    )


@pytest.mark.parametrize("numbers", [False, True], ids=["proto-json", "numbers"])
@pytest.mark.parametrize("cls", answers(), ids=lambda c: c.DESCRIPTOR.full_name)
def test_a_response_model_keeps_every_key_and_value_of_the_answer(cls, numbers):
    for message in (cls(), fill(cls())):
        expected = json.loads(json.dumps(as_dict(message, numbers=numbers)))
        assert through_model(message, numbers) == expected


def test_an_unset_message_field_stays_absent_rather_than_null():
    from kepu.identity.v1 import identity_pb2 as ipb

    sent = through_model(ipb.PartnerCredentials(client_secret="s"), numbers=False)
    assert sent == {"client_secret": "s", "webhook_secret": ""}


def test_a_key_the_model_does_not_know_is_refused_rather_than_dropped():
    from kepu.partner.v1 import consent_pb2 as cpb

    with pytest.raises(ValidationError):
        model(cpb.Consent).model_validate({**as_dict(cpb.Consent()), "surprise": 1})


def test_every_route_declares_its_answer_in_the_openapi_document():
    app = create_app()
    undeclared = [
        f"{sorted(r.methods)[0]} {r.path}"
        for r in app.routes
        if isinstance(r, APIRoute)
        and r.include_in_schema
        and r.response_model is None
        and r.response_class is not Response
        and r.status_code != 204
    ]
    assert undeclared == []
    spec = app.openapi()
    for path, operations in spec["paths"].items():
        for method, op in operations.items():
            ok = next(op["responses"][c] for c in ("200", "201", "202") if c in op["responses"])
            content = ok.get("content", {})
            assert content, f"{method} {path} documents no answer"
            json_schema = content.get("application/json", {}).get("schema")
            if json_schema is not None:
                assert "$ref" in json_schema or "$ref" in json_schema.get("items", {}), (
                    f"{method} {path} answers an untyped object"
                )
