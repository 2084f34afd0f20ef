"""RFC 9457 problem details with a Chinese ``detail``, and the gRPC -> HTTP status mapping."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any, get_args, get_origin

import grpc
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from kepu_common.errors import DomainError
from kepu_common.grpcio import field_violations
from pydantic import BaseModel, Field
from pydantic.fields import FieldInfo
from starlette.exceptions import HTTPException as StarletteHTTPException

GRPC_TO_HTTP = {
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.INVALID_ARGUMENT: 422,
    grpc.StatusCode.FAILED_PRECONDITION: 409,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
    grpc.StatusCode.UNAUTHENTICATED: 401,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.OUT_OF_RANGE: 422,
}
TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}
DEFAULT_DETAIL = {
    400: "请求格式不正确。",
    401: "请先登录。",
    403: "您没有权限执行此操作。",
    404: "请求的资源不存在。",
    405: "不支持该请求方法。",
    409: "当前状态下不能执行此操作。",
    413: "上传内容过大。",
    415: "不支持的内容类型。",
    422: "提交的数据不符合要求。",
    429: "请求过于频繁，请稍后再试。",
    500: "系统内部错误，请稍后再试或联系平台运维。",
    502: "后端服务返回了无效响应。",
    503: "服务暂时不可用，请稍后再试。",
    504: "服务响应超时，请稍后再试。",
}


class Problem(Exception):
    def __init__(
        self,
        status: int,
        detail: str | None = None,
        *,
        title: str | None = None,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail or DEFAULT_DETAIL.get(status, "请求失败。")
        self.title = title or TITLES.get(status, "Error")
        self.errors = errors
        self.headers = headers


def problem_response(request: Request | None, p: Problem) -> JSONResponse:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": p.title,
        "status": p.status,
        "detail": p.detail,
    }
    if request is not None:
        body["instance"] = request.url.path
        rid = getattr(request.state, "request_id", None)
        if rid:
            body["request_id"] = rid
    if p.errors:
        body["errors"] = p.errors
    return JSONResponse(
        body, status_code=p.status, media_type="application/problem+json", headers=p.headers
    )


def from_grpc(err: grpc.RpcError) -> Problem:
    """The problem for a failed call: its status, its Chinese detail, and an ``errors`` entry
    ``{field, message}`` for each field violation the service named."""
    code = err.code() if hasattr(err, "code") else grpc.StatusCode.UNKNOWN
    status = GRPC_TO_HTTP.get(code, 502 if code != grpc.StatusCode.INTERNAL else 500)
    detail = err.details() if hasattr(err, "details") else None
    if status >= 500 or not detail or not _has_cjk(detail):
        detail = DEFAULT_DETAIL.get(status)
    errors = [{"field": v.field, "message": v.message} for v in field_violations(err)]
    return Problem(status, detail, errors=errors if status < 500 else None)


def _has_cjk(s: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in s)


# pydantic error type -> the Chinese message after the field's label; ``{...}`` from the ctx
FIELD_CN = {
    "missing": "为必填项",
    "string_too_long": "不能超过{max_length}个字",
    "string_too_short": "至少需要{min_length}个字",
    "too_long": "不能超过{max_length}项",
    "too_short": "至少需要{min_length}项",
    "int_parsing": "须为整数",
    "int_type": "须为整数",
    "int_from_float": "须为整数",
    "float_parsing": "须为数字",
    "float_type": "须为数字",
    "decimal_parsing": "须为数字",
    "decimal_type": "须为数字",
    "decimal_max_places": "最多保留{decimal_places}位小数",
    "decimal_max_digits": "数字位数过多",
    "finite_number": "须为有效的数字",
    "greater_than": "须大于{gt}",
    "greater_than_equal": "不能小于{ge}",
    "less_than": "须小于{lt}",
    "less_than_equal": "不能大于{le}",
    "literal_error": "只能是{expected}",
    "enum": "只能是{expected}",
    "json_invalid": "不是有效的 JSON",
    "uuid_parsing": "不是有效的编号",
    "string_type": "须为文本",
    "bool_parsing": "须为是或否（true/false）",
    "bool_type": "须为是或否（true/false）",
    "list_type": "须为列表",
    "dict_type": "须为对象",
    "model_type": "须为对象",
    "model_attributes_type": "须为对象",
    "date_from_datetime_parsing": "格式不正确，应为 YYYY-MM-DD",
    "date_from_datetime_inexact": "格式不正确，应为 YYYY-MM-DD",
    "date_parsing": "格式不正确，应为 YYYY-MM-DD",
    "date_type": "格式不正确，应为 YYYY-MM-DD",
    "string_pattern_mismatch": "格式不正确",
    "value_error": "取值不正确",
    "extra_forbidden": "不允许提交（本接口没有这一项）",
}


def _message(error: dict[str, Any]) -> str:
    template = FIELD_CN.get(str(error.get("type")), "取值不正确")
    ctx = {k: str(v) for k, v in (error.get("ctx") or {}).items()}
    if "expected" in ctx:  # "'pass' or 'fail'" -> “pass”、“fail”
        ctx["expected"] = re.sub(r"'([^']*)'", r"“\1”", ctx["expected"]).replace(" or ", "、")
        ctx["expected"] = ctx["expected"].replace(", ", "、")
    if error.get("type") == "string_too_short" and ctx.get("min_length") == "1":
        return "不能为空"
    try:
        return template.format(**ctx)
    except (KeyError, IndexError):
        return template.split("{")[0].rstrip("，") or "取值不正确"


def _label_of(info: FieldInfo | None) -> str:
    """A field's Chinese label: its ``title``, else the head of its Chinese description."""
    if info is None:
        return ""
    if info.title:
        return info.title
    head = re.split(r"[（(：:，,；;。\s]", info.description or "", maxsplit=1)[0]
    return head if _has_cjk(head) else ""


def _inner(annotation: Any, step: str | int) -> Any:
    """The annotation one ``loc`` step down: a list's item, a dict's value, an optional's type."""
    for arg in (annotation, *get_args(annotation)):
        origin = get_origin(arg)
        if isinstance(step, int) and origin in (list, tuple, set, frozenset):
            return get_args(arg)[0] if get_args(arg) else Any
        if origin is dict:
            return get_args(arg)[1] if get_args(arg) else Any
    return None


def _model_of(annotation: Any) -> type[BaseModel] | None:
    for arg in (annotation, *get_args(annotation)):
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            return arg
    return None


def _walk(annotation: Any, steps: Sequence[str | int], labels: list[str]) -> None:
    for i, step in enumerate(steps):
        model = _model_of(annotation)
        if model is not None and isinstance(step, str) and step in model.model_fields:
            info = model.model_fields[step]
            labels.append(_label_of(info) or step)
            annotation = info.annotation
            continue
        inner = _inner(annotation, step)
        if inner is None:
            if model is not None and isinstance(step, str) and i == len(steps) - 1:
                labels.append(f"“{step}”")  # an unknown field (extra_forbidden)
            return
        labels.append(f"第{step + 1}项" if isinstance(step, int) else f"“{step}”")
        annotation = inner


def _params(dependant: Any, kind: str) -> list[Any]:
    found = list(getattr(dependant, f"{kind}_params", []))
    for sub in getattr(dependant, "dependencies", []):
        found.extend(_params(sub, kind))
    return found


def field_label(request: Request, loc: Sequence[str | int]) -> str:
    """The Chinese name of the request field at ``loc`` (``("body", "amount_yuan")`` ->
    "金额（元）"), from the route's request model; empty when the field has no label."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if not loc or dependant is None:
        return ""
    kind, rest = str(loc[0]), list(loc[1:])
    if kind not in ("body", "query", "path", "header", "cookie"):
        return ""
    if not rest:
        return "请求内容" if kind == "body" else ""
    params = {p.alias: p for p in _params(dependant, kind)}
    labels: list[str] = []
    param = params.get(str(rest[0]))
    if param is None and kind == "body" and len(params) == 1:  # one model is the whole body
        _walk(next(iter(params.values())).field_info.annotation, rest, labels)
    elif param is not None:
        labels.append(_label_of(param.field_info) or str(rest[0]))
        _walk(param.field_info.annotation, rest[1:], labels)
    if not labels or not any(_has_cjk(x) for x in labels):
        return ""
    out = labels[0]
    for x in labels[1:]:
        out += x if x.startswith("第") else f"的{x}"
    return out


class FieldError(BaseModel):
    """One field at fault: where it is (for the form to mark) and what is wrong, in Chinese."""

    field: str = Field(
        description="请求中的字段路径，如 name、values.activities、members.0.phone", title="字段"
    )
    message: str = Field(description="中文说明", title="说明")
    label: str | None = Field(
        None, description="字段的中文名称（网关自身校验时给出）", title="名称"
    )
    type: str | None = Field(None, description="校验类型（网关自身校验时给出）", title="类型")
    row: int | None = Field(None, description="导入文件中的行号（导入时给出）", title="行号")
    column: str | None = Field(None, description="导入文件中的列（导入时给出）", title="列")


class ProblemDoc(BaseModel):
    """RFC 9457 problem details (application/problem+json); ``detail`` is Chinese."""

    type: str = Field("about:blank", title="类型")
    title: str = Field(title="标题", description="HTTP 状态的英文名称")
    status: int = Field(title="状态码")
    detail: str = Field(title="说明", description="给用户看的中文说明")
    instance: str | None = Field(None, title="请求路径")
    request_id: str | None = Field(None, title="请求编号")
    errors: list[FieldError] | None = Field(
        None, title="字段错误", description="逐个字段的错误，供表单在对应输入框旁显示"
    )


def _problem_content() -> dict[str, Any]:
    return {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}


def document(schema: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI document with the ``Problem`` schema: every 422 answers problem+json with
    field ``errors`` (instead of FastAPI's HTTPValidationError), and every operation names the
    problem as its error response."""
    problem = ProblemDoc.model_json_schema(ref_template="#/components/schemas/{model}")
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.update(problem.pop("$defs", {}))  # FieldError
    components["Problem"] = problem
    for item in schema.get("paths", {}).values():
        for operation in item.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            if "422" in responses:
                responses["422"] = {
                    "description": "提交的数据不符合要求",
                    "content": _problem_content(),
                }
            responses.setdefault(
                "default", {"description": "错误（problem+json）", "content": _problem_content()}
            )
    for unused in ("HTTPValidationError", "ValidationError"):
        if unused not in json.dumps(schema.get("paths", {})):
            components.pop(unused, None)
    return schema


def install(app: Any) -> None:
    base_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document(base_openapi())
        return app.openapi_schema

    app.openapi = openapi

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(request, exc)

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        status = GRPC_TO_HTTP.get(exc.grpc_status, 500)
        errors = [{"field": v.field, "message": v.message} for v in exc.violations]
        return problem_response(request, Problem(status, exc.detail, errors=errors))

    @app.exception_handler(grpc.RpcError)
    async def _grpc(request: Request, exc: grpc.RpcError) -> JSONResponse:
        return problem_response(request, from_grpc(exc))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        # Each error names its field by the request model's Chinese label (``title``);
        # ``field`` keeps the path for the portal to put the message on its input.
        errors = []
        for e in exc.errors():
            loc = tuple(e.get("loc", ()))
            field = ".".join(str(x) for x in loc if x != "body")
            if e.get("type") == "extra_forbidden":  # the caller's own key: no label exists
                label = f"字段“{loc[-1]}”"
            else:
                label = field_label(request, loc) or "提交的数据"
            errors.append(
                {"field": field, "label": label, "message": _message(e), "type": e.get("type")}
            )
        detail = (
            "提交的数据不符合要求："
            + "；".join(f"{x['label']}{x['message']}" for x in errors[:5])
            + "。"
        )
        return problem_response(request, Problem(422, detail, errors=errors))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) and _has_cjk(exc.detail) else None
        return problem_response(
            request, Problem(exc.status_code, detail, headers=getattr(exc, "headers", None))
        )

    @app.exception_handler(UnicodeError)
    async def _bad_text(request: Request, exc: UnicodeError) -> JSONResponse:
        # e.g. a JSON string with a lone surrogate ("\\ud800") that cannot become UTF-8
        return problem_response(
            request, Problem(422, "提交的文字包含无法识别的字符，请检查后重新输入。")
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        import logging

        logging.getLogger("kepu.gateway").exception("unhandled error on %s", request.url.path)
        return problem_response(request, Problem(500))
