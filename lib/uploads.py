"""Keeping an upload across a form that came back with an error, so nobody uploads twice.

A valid upload on a form with another error is stored under a random name in `pending/` and
handed back as a signed reference in a hidden field; the next submission uses it unless a new
file is chosen. The reference is signed (it names only what the app stored) and expires.
"""

import logging
import os
import secrets

from django.core import signing
from django.core.files.base import ContentFile, File
from django.core.files.storage import default_storage

logger = logging.getLogger(__name__)

SALT = "launchpad.kept-upload"
MAX_AGE_SECONDS = 6 * 3600
FOLDER = "pending/"


def keep_upload(upload) -> str:
    """Store `upload` for a later submission of the same form; return its signed reference."""
    upload.seek(0)
    name = default_storage.save(f"{FOLDER}{secrets.token_hex(16)}", ContentFile(upload.read()))
    filename = os.path.basename(getattr(upload, "name", "") or "upload")[:100]
    return signing.dumps({"name": name, "filename": filename}, salt=SALT)


def kept_upload(reference: str | None) -> File | None:
    """The file a reference from `keep_upload` names, or None (forged, expired or gone)."""
    if not reference:
        return None
    try:
        kept = signing.loads(reference, salt=SALT, max_age=MAX_AGE_SECONDS)
    except signing.BadSignature:
        logger.info("kept upload refused: bad or expired reference")
        return None
    name = kept.get("name", "")
    if not name.startswith(FOLDER) or ".." in name:
        return None
    try:
        return File(default_storage.open(name, "rb"), name=kept.get("filename") or "upload")
    except FileNotFoundError:
        return None


def kept_filename(reference: str | None) -> str:
    """The original file name a reference carries, for telling the user what is kept."""
    try:
        return signing.loads(reference or "", salt=SALT, max_age=MAX_AGE_SECONDS).get("filename", "")
    except signing.BadSignature:
        return ""
