"""Field errors end to end: a service names the fields at fault, the caller gets them as the
``errors`` of the problem+json, and the OpenAPI document says so."""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from fastapi.testclient import TestClient
from kepu_common import grpcio
from kepu_common.errors import FieldViolation, InvalidArgument
from kepu_devstack.tokens import TestIssuer
from kepu_gateway.app import create_app
from kepu_gateway.problems import from_grpc
from kepu_gateway.settings import GatewaySettings

ISSUER = "http://kepu.test/auth/realms/kepu"


def _refuse(request: bytes, context: grpc.ServicerContext) -> bytes:
    servicer = grpcio.Servicer(verifier=None)  # type: ignore[arg-type]

    def work() -> bytes:
        raise InvalidArgument(
            "联系电话格式不正确；请填写推荐意见。",
            errors=[
                FieldViolation("phone", "联系电话格式不正确"),
                FieldViolation("opinion", "请填写推荐意见"),
            ],
        )

    return servicer.call(context, work)


def _refuse_plainly(request: bytes, context: grpc.ServicerContext) -> bytes:
    def work() -> bytes:
        raise InvalidArgument("该批次已截止。")

    return grpcio.Servicer(verifier=None).call(context, work)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def target() -> Any:
    server, port = grpcio.make_server(0, workers=2)
    handlers = {
        "Refuse": grpc.unary_unary_rpc_method_handler(_refuse),
        "RefusePlainly": grpc.unary_unary_rpc_method_handler(_refuse_plainly),
    }
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("test.T", handlers),))
    with grpcio.serving(server):
        ch = grpcio.channel(f"127.0.0.1:{port}")
        yield ch
        ch.close()


def _fail(ch: grpc.Channel, method: str) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as caught:
        ch.unary_unary(f"/test.T/{method}")(b"", timeout=10)
    return caught.value


def test_a_service_names_the_fields_at_fault_and_the_problem_lists_them(target):
    err = _fail(target, "Refuse")
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert err.details() == "联系电话格式不正确；请填写推荐意见。"
    p = from_grpc(err)
    assert p.status == 422
    assert p.detail == "联系电话格式不正确；请填写推荐意见。"
    assert p.errors == [
        {"field": "phone", "message": "联系电话格式不正确"},
        {"field": "opinion", "message": "请填写推荐意见"},
    ]


def test_an_error_without_fields_has_no_errors_array(target):
    p = from_grpc(_fail(target, "RefusePlainly"))
    assert (p.status, p.detail, p.errors) == (422, "该批次已截止。", [])


def test_one_field_given_by_name_is_its_own_violation():
    exc = InvalidArgument("请填写授权用途。", field="purpose")
    assert exc.violations == (FieldViolation("purpose", "请填写授权用途。"),)


def test_the_openapi_document_describes_problems_with_field_errors():
    app = create_app(GatewaySettings(OIDC_ISSUER=ISSUER))  # type: ignore[call-arg]
    app.state.verifier = TestIssuer(ISSUER).verifier()
    spec = TestClient(app).get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    assert {"type", "title", "status", "detail", "errors"} <= set(schemas["Problem"]["properties"])
    assert {"field", "message"} <= set(schemas["FieldError"]["required"])
    assert "HTTPValidationError" not in schemas
    created = spec["paths"]["/api/v1/talents"]["post"]["responses"]
    problem = {"$ref": "#/components/schemas/Problem"}
    assert created["422"]["content"]["application/problem+json"]["schema"] == problem
    assert created["default"]["content"]["application/problem+json"]["schema"] == problem
