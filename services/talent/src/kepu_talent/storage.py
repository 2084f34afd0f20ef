"""What an archive attachment may be (types checked by extension and content). The bytes go to
the shared object store, ``kepu_common.objects`` (a directory, or S3 by configuration)."""

from __future__ import annotations

import os

from kepu_common.errors import InvalidArgument

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
