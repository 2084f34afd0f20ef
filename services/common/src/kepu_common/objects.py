"""Object store for uploaded files (attachments, evidence): a directory when embedded, any
S3-compatible store by configuration. The rows describing the files (owner, tenant path, name,
type, size, sha256, storage key) live in the owning service's PostgreSQL under RLS; this holds
the bytes only, under keys the service derives from the row."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from .errors import InvalidArgument, NotFound

PDF = "application/pdf"
JPEG = "image/jpeg"
PNG = "image/png"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
MP4 = "video/mp4"

# Evidence 佐证材料 (work-plan progress, e站 五有): documents, sheets and photos.
EVIDENCE_TYPES = {
    ".pdf": PDF, ".jpg": JPEG, ".jpeg": JPEG, ".png": PNG, ".docx": DOCX, ".xlsx": XLSX,
}  # fmt: skip
EVIDENCE_MAX_BYTES = 20 * 1024 * 1024

# What the first bytes of each type must be: an upload named .pdf must be a PDF.
_SIGNATURES = {
    PDF: (b"%PDF",),
    JPEG: (b"\xff\xd8\xff",),
    PNG: (b"\x89PNG\r\n\x1a\n",),
    DOCX: (b"PK\x03\x04",),
    XLSX: (b"PK\x03\x04",),
    PPTX: (b"PK\x03\x04",),
}
# Types whose signature sits after a length field: an MP4 starts with its ``ftyp`` box.
_SIGNATURES_AT = {MP4: (4, b"ftyp")}


def check_file(
    filename: str, content: bytes, max_bytes: int, allowed: Mapping[str, str], field: str = "file"
) -> str:
    """The content type of an acceptable upload (``allowed`` maps extensions such as ``.pdf``
    to types), or ``InvalidArgument`` in Chinese naming ``field``."""
    if not content:
        raise InvalidArgument("上传的文件内容为空。", field=field)
    if len(content) > max_bytes:
        raise InvalidArgument(f"文件过大（不超过{max_bytes // (1024 * 1024)}MB）。", field=field)
    ext = os.path.splitext(filename or "")[1].lower()
    content_type = allowed.get(ext)
    if content_type is None:
        names = "、".join(sorted({e.lstrip(".") for e in allowed}))
        raise InvalidArgument(
            f"不支持的文件类型“{ext or '无扩展名'}”，仅支持：{names}。", field=field
        )
    heads = _SIGNATURES.get(content_type)
    at = _SIGNATURES_AT.get(content_type)
    if (heads and not content.startswith(heads)) or (
        at and content[at[0] : at[0] + len(at[1])] != at[1]
    ):
        raise InvalidArgument(f"文件内容与扩展名“{ext}”不符。", field=field)
    return content_type


class ObjectStore(Protocol):
    def put(self, key: str, content: bytes, content_type: str) -> None: ...

    def get(self, key: str) -> bytes: ...


class FileSystemStore:
    """Files under ``root``; a key never leaves it."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).resolve()

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root):
            raise InvalidArgument("文件路径不正确。")
        return path

    def put(self, key: str, content: bytes, content_type: str) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".part")
        tmp.write_bytes(content)
        tmp.replace(path)

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise NotFound("文件不存在。") from None


class S3Store:
    """Any S3-compatible store (MinIO, Ceph, OSS, AWS); needs the ``boto3`` package."""

    def __init__(
        self, endpoint: str, bucket: str, access_key: str, secret_key: str, region: str
    ) -> None:
        import boto3  # optional dependency, only when a service is configured for s3

        self.bucket = bucket
        self.client: Any = boto3.client(
            "s3",
            endpoint_url=endpoint or None,
            aws_access_key_id=access_key or None,
            aws_secret_access_key=secret_key or None,
            region_name=region,
        )

    def put(self, key: str, content: bytes, content_type: str) -> None:
        self.client.put_object(Bucket=self.bucket, Key=key, Body=content, ContentType=content_type)

    def get(self, key: str) -> bytes:
        try:
            return bytes(self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read())
        except self.client.exceptions.NoSuchKey:
            raise NotFound("文件不存在。") from None


def open_store(
    kind: str,
    path: str | Path,
    *,
    endpoint: str = "",
    bucket: str = "",
    access_key: str = "",
    secret_key: str = "",
    region: str = "us-east-1",
) -> ObjectStore:
    """The store a service's settings name: ``"s3"`` (any S3-compatible store) or a directory."""
    if kind == "s3":
        return S3Store(endpoint, bucket, access_key, secret_key, region)
    return FileSystemStore(path)
