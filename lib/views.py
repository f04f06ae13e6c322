"""Serving uploaded media: only known file types, never sniffed, never listed."""

from pathlib import Path

from django.conf import settings
from django.http import FileResponse, Http404
from django.views.decorators.http import require_safe

SERVED_TYPES = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".webp": "image/webp",
    ".pdf": "application/pdf",
    ".mp4": "video/mp4",
    ".webm": "video/webm",
    ".vtt": "text/vtt",
}


@require_safe
def serve_media(request, path: str):
    """Serve a file under MEDIA_ROOT. File names are random, so knowing one is the permission."""
    root = Path(settings.MEDIA_ROOT).resolve()
    try:
        target = (root / path).resolve()
        suffix = target.suffix.lower()
        if not target.is_relative_to(root) or suffix not in SERVED_TYPES or not target.is_file():
            raise Http404
    except (ValueError, OSError):  # a NUL byte or a name too long for the filesystem: not a file of ours
        raise Http404 from None
    response = FileResponse(target.open("rb"), content_type=SERVED_TYPES[suffix])
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    if suffix == ".pdf":
        response["Content-Disposition"] = f'inline; filename="{target.name}"'
    return response


def id_or_none(raw: str | None) -> int | None:
    """A database id typed into a URL or a form, or None: ASCII digits of a sane length only
    ("²".isdigit() is true, and int("²") fails; a 40-digit number overflows the column)."""
    if raw and len(raw) <= 18 and raw.isascii() and raw.isdigit():
        return int(raw)
    return None
