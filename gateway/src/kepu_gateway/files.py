"""Files in and out of the API: uploads read with a size limit, downloads as attachments.

A download route declares ``**download(media type, ...)``: its ``response_class`` is a plain
``Response`` and the OpenAPI document names the file types it answers with (binary), instead
of the JSON schema FastAPI would otherwise claim.
"""

from __future__ import annotations

from typing import Any, Protocol
from urllib.parse import quote

from fastapi import Response, UploadFile

from .problems import Problem

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ANY_FILE = "application/octet-stream"
BINARY = {"schema": {"type": "string", "format": "binary"}}
MAX_EVIDENCE_BYTES = 20 * 1024 * 1024


class FileMessage(Protocol):
    """A service's file answer (``FileResponse``, ``StationFileContent``)."""

    @property
    def filename(self) -> str: ...
    @property
    def content(self) -> bytes: ...
    @property
    def content_type(self) -> str: ...


def download(*media_types: str, description: str = "文件") -> dict[str, Any]:
    """Route options of a file download answering one of ``media_types``."""
    return {
        "response_class": Response,
        "responses": {
            200: {"description": description, "content": {m: BINARY for m in media_types}}
        },
    }


def file_response(f: FileMessage) -> Response:
    """The file as an attachment under its (Chinese) name."""
    disposition = f"attachment; filename*=UTF-8''{quote(f.filename)}"
    return Response(
        f.content, media_type=f.content_type, headers={"Content-Disposition": disposition}
    )


async def read_upload(upload: UploadFile, limit: int) -> bytes:
    """The uploaded file, or a 413 when it is over ``limit`` (read no further than one byte
    past it)."""
    content = await upload.read(limit + 1)
    if len(content) > limit:
        raise Problem(413, f"上传文件过大（不超过{limit // (1024 * 1024)}MB）。")
    return content


async def read_evidence(upload: UploadFile) -> bytes:
    """The uploaded evidence file, or a 422 naming the field when it is over the limit (read
    no further than one byte past it); the service checks the type and its own limit."""
    content = await upload.read(MAX_EVIDENCE_BYTES + 1)
    if len(content) > MAX_EVIDENCE_BYTES:
        detail = f"佐证材料过大（不超过{MAX_EVIDENCE_BYTES // (1024 * 1024)}MB）。"
        raise Problem(422, detail, errors=[{"field": "file", "message": detail}])
    return content
