"""Photos and documents: checked by content, size-limited, stored by SHA-256 outside the DB."""

import hashlib
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from gridgov.errors import InvalidInput

MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_DOCUMENT_BYTES = 20 * 1024 * 1024

# (media type, is an image, test on the first bytes)
_SIGNATURES: tuple[tuple[str, bool, Callable[[bytes], bool]], ...] = (
    ("image/jpeg", True, lambda b: b[:3] == b"\xff\xd8\xff"),
    ("image/png", True, lambda b: b[:8] == b"\x89PNG\r\n\x1a\n"),
    ("image/webp", True, lambda b: b[:4] == b"RIFF" and b[8:12] == b"WEBP"),
    ("image/heic", True, lambda b: b[4:8] == b"ftyp" and b[8:12] in (b"heic", b"heix", b"mif1")),
    ("application/pdf", False, lambda b: b[:5] == b"%PDF-"),
)
PHOTO_KINDS = frozenset({"report", "before", "after", "verification"})
ATTACHMENT_KINDS = PHOTO_KINDS | {"material"}


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    media_type: str
    size: int


def sniff(content: bytes) -> tuple[str, bool] | None:
    """(media type, is an image) judged from the bytes, never from the name or the header."""
    for media_type, is_image, matches in _SIGNATURES:
        if matches(content[:16]):
            return media_type, is_image
    return None


def check(content: bytes, *, kind: str) -> tuple[str, bool]:
    if kind not in ATTACHMENT_KINDS:
        raise InvalidInput(f"未知的附件类别：{kind}", errors=[{"field": "kind", "message": "未知类别"}])
    if not content:
        raise InvalidInput("文件为空", errors=[{"field": "file", "message": "文件为空"}])
    sniffed = sniff(content)
    if kind in PHOTO_KINDS and (sniffed is None or not sniffed[1]):
        raise InvalidInput("照片必须是 JPEG、PNG、WebP 或 HEIC 图片",
                           errors=[{"field": "file", "message": "不是图片"}])
    if sniffed is None:
        raise InvalidInput("材料必须是图片或 PDF 文件", errors=[{"field": "file", "message": "不支持的文件类型"}])
    limit = MAX_PHOTO_BYTES if sniffed[1] else MAX_DOCUMENT_BYTES
    if len(content) > limit:
        raise InvalidInput(f"文件超过 {limit // 1024 // 1024} MB",
                           errors=[{"field": "file", "message": "文件过大"}])
    return sniffed


def store(root: Path, content: bytes, *, kind: str) -> StoredFile:
    """Write the file under root/ab/abcdef… (idempotent: the same bytes are stored once)."""
    media_type, _ = check(content, kind=kind)
    digest = hashlib.sha256(content).hexdigest()
    path = path_for(root, digest)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as handle:
            handle.write(content)
            temporary = Path(handle.name)
        os.replace(temporary, path)
    return StoredFile(digest, media_type, len(content))


def path_for(root: Path, digest: str) -> Path:
    return root / digest[:2] / digest
