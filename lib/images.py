"""The one pipeline every uploaded image goes through.

Only JPEG, PNG and WebP are decoded (Pillow's `formats=` allow-list), the pixel count is
checked from the header before anything is decoded, EXIF orientation is applied and all
metadata (GPS included) is dropped by re-encoding, and size variants for web, email and
print are produced. Anything else is an `ImageRejected` with a message for the user.
"""

import io
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

logger = logging.getLogger(__name__)

ALLOWED_FORMATS = ("JPEG", "PNG", "WEBP")
# Longest side of each stored variant; smaller images are never enlarged.
VARIANT_SIZES = {"web": 1600, "email": 1200, "print": 3500}


class ImageRejected(ValueError):
    """The upload is not an image we accept; the message is for the user."""


@dataclass
class ProcessedImage:
    width: int
    height: int
    source_format: str
    # variant name -> (bytes, file extension)
    variants: dict[str, tuple[bytes, str]] = field(default_factory=dict)


def _read_limited(upload, max_bytes: int) -> bytes:
    size = getattr(upload, "size", None)
    if size is not None and size > max_bytes:
        raise ImageRejected(
            _("The file is %(size)s; the limit is %(limit)s.")
            % {"size": filesizeformat(size), "limit": filesizeformat(max_bytes)}
        )
    if hasattr(upload, "seek"):
        upload.seek(0)
    data = upload.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ImageRejected(_("The file is larger than the limit of %(limit)s.") % {"limit": filesizeformat(max_bytes)})
    if not data:
        raise ImageRejected(_("The file is empty."))
    return data


def _encode(image: Image.Image, longest_side: int) -> tuple[bytes, str]:
    copy = image.copy()
    copy.thumbnail((longest_side, longest_side), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    if copy.mode in ("RGBA", "LA") or (copy.mode == "P" and "transparency" in copy.info):
        copy.convert("RGBA").save(out, "PNG", optimize=True)
        return out.getvalue(), "png"
    copy.convert("RGB").save(out, "JPEG", quality=85, optimize=True, progressive=True)
    return out.getvalue(), "jpg"


def process_image(upload, *, max_bytes: int | None = None, max_pixels: int | None = None) -> ProcessedImage:
    """Validate an uploaded file and return clean, metadata-free variants of it."""
    max_bytes = max_bytes or settings.MAX_UPLOAD_BYTES
    max_pixels = max_pixels or settings.MAX_IMAGE_PIXELS
    data = _read_limited(upload, max_bytes)
    name = getattr(upload, "name", "upload")
    try:
        image = Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS)
    except Image.DecompressionBombError:
        logger.warning("image rejected: decompression bomb in %r", name)
        raise ImageRejected(_("The image has too many pixels.")) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        logger.info("image rejected: %r is not a JPEG, PNG or WebP image", name)
        raise ImageRejected(_("Upload a JPEG, PNG or WebP image.")) from None

    source_format = image.format or ""
    width, height = image.size
    if width * height > max_pixels:
        logger.warning("image rejected: %r is %dx%d pixels", name, width, height)
        raise ImageRejected(
            _("The image is %(w)s×%(h)s pixels; the limit is %(mp)s megapixels.")
            % {"w": width, "h": height, "mp": max_pixels // 1_000_000}
        )
    # WeasyPrint sets this process-wide flag on import, which would let truncated uploads
    # through padded with grey; uploads are always decoded strictly.
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        image.load()
        image = ImageOps.exif_transpose(image)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        logger.info("image rejected: %r could not be decoded", name)
        raise ImageRejected(_("The image is damaged and could not be read.")) from None

    processed = ProcessedImage(width=image.width, height=image.height, source_format=source_format)
    for variant, longest_side in VARIANT_SIZES.items():
        processed.variants[variant] = _encode(image, longest_side)
    return processed
