"""RFC 9457 problem details with a Chinese ``detail``, and the gRPC -> HTTP status mapping."""

from __future__ import annotations

from typing import Any

import grpc
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from kepu_common.errors import DomainError
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
    code = err.code() if hasattr(err, "code") else grpc.StatusCode.UNKNOWN
    status = GRPC_TO_HTTP.get(code, 502 if code != grpc.StatusCode.INTERNAL else 500)
    detail = err.details() if hasattr(err, "details") else None
    if status >= 500 or not detail or not _has_cjk(detail):
        detail = DEFAULT_DETAIL.get(status)
    return Problem(status, detail)


def _has_cjk(s: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in s)


FIELD_CN = {
    "missing": "缺少必填项",
    "string_too_long": "内容过长",
    "string_too_short": "内容过短",
    "int_parsing": "须为整数",
    "float_parsing": "须为数字",
    "json_invalid": "不是有效的 JSON",
    "uuid_parsing": "不是有效的编号",
    "enum": "取值不在允许范围内",
    "string_type": "须为文本",
    "int_type": "须为整数",
    "bool_parsing": "须为是/否",
    "list_type": "须为列表",
    "dict_type": "须为对象",
    "model_attributes_type": "须为对象",
    "greater_than_equal": "数值过小",
    "less_than_equal": "数值过大",
    "date_from_datetime_parsing": "日期格式不正确",
    "date_parsing": "日期格式不正确",
    "string_pattern_mismatch": "格式不正确",
    "value_error": "取值不正确",
    "extra_forbidden": "不允许的字段",
}


def install(app: Any) -> None:
    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(request, exc)

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        status = GRPC_TO_HTTP.get(exc.grpc_status, 500)
        return problem_response(request, Problem(status, exc.detail))

    @app.exception_handler(grpc.RpcError)
    async def _grpc(request: Request, exc: grpc.RpcError) -> JSONResponse:
        return problem_response(request, from_grpc(exc))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = []
        for e in exc.errors():
            loc = ".".join(str(x) for x in e.get("loc", ()) if x != "body")
            errors.append(
                {
                    "field": loc,
                    "message": FIELD_CN.get(str(e.get("type")), "取值不正确"),
                    "type": e.get("type"),
                }
            )
        detail = "提交的数据不符合要求：" + "；".join(
            f"{x['field']} {x['message']}" for x in errors[:5]
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
