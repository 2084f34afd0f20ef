"""Object store for archive attachments: a directory when embedded, S3-compatible by configuration."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Protocol

from kepu_common.errors import InvalidArgument, NotFound

# Allowed attachment types (text, images, video, documents), checked by extension and content.
ALLOWED_TYPES = {
    ".txt": "text/plain",
    ".pdf": "application/pdf",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".gif": "image/gif",
    ".mp4": "video/mp4",
}


def check_attachment(filename: str, content: bytes, max_bytes: int) -> str:
    """The content type of an acceptable attachment, or ``InvalidArgument`` in Chinese."""
    if not content:
        raise InvalidArgument("附件内容为空。")
    if len(content) > max_bytes:
        raise InvalidArgument(f"附件过大（不超过{max_bytes // (1024 * 1024)}MB）。")
    ext = os.path.splitext(filename or "")[1].lower()
    content_type = ALLOWED_TYPES.get(ext)
    if content_type is None:
        allowed = "、".join(sorted({e.lstrip(".") for e in ALLOWED_TYPES}))
        raise InvalidArgument(f"不支持的附件类型“{ext or '无扩展名'}”，仅支持：{allowed}。")
    head = content[:16]
    signatures = {
        "application/pdf": head.startswith(b"%PDF"),
        "image/jpeg": head.startswith(b"\xff\xd8\xff"),
        "image/png": head.startswith(b"\x89PNG\r\n\x1a\n"),
        "image/gif": head.startswith(b"GIF8"),
        "video/mp4": head[4:8] == b"ftyp",
        ALLOWED_TYPES[".docx"]: head.startswith(b"PK\x03\x04"),
    }
    if content_type == "text/plain":
        try:
            content.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidArgument("文本附件应为UTF-8编码。") from None
    elif not signatures.get(content_type, True):
        raise InvalidArgument(f"附件内容与扩展名“{ext}”不符。")
    return content_type


class ObjectStore(Protocol):
    def put(self, key: str, content: bytes, content_type: str) -> None: ...

    def get(self, key: str) -> bytes: ...


class FileSystemStore:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).resolve()

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root):
            raise InvalidArgument("附件路径不正确。")
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
            raise NotFound("附件文件不存在。") from None


class S3Store:
    """Any S3-compatible store (MinIO, Ceph, OSS, AWS); needs the ``boto3`` package."""

    def __init__(
        self, endpoint: str, bucket: str, access_key: str, secret_key: str, region: str
    ) -> None:
        import boto3  # optional dependency, only with TALENT_OBJECT_STORE=s3

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
            raise NotFound("附件文件不存在。") from None
