"""Django storage backed by Cloudinary (used when ``CLOUDINARY_URL`` is set).

The cloudinary SDK reads ``CLOUDINARY_URL`` itself. Names stored in the database
are Cloudinary public ids; URLs are built by the SDK, with optional named
transformations (thumbnail/card sizes) for API output.

An unreachable or failing Cloudinary makes an upload a ``503 service_unavailable``
(nothing is saved); a failed delete is logged and leaves an orphaned asset rather
than failing a request whose database change already committed.
"""

import logging
import posixpath

import cloudinary
import cloudinary.exceptions
import cloudinary.uploader
from django.core.files.storage import Storage
from django.utils.deconstruct import deconstructible

from core.errors import ServiceUnavailable

logger = logging.getLogger(__name__)

TRANSFORMATIONS = {
    "thumb": {"width": 320, "height": 240, "crop": "fill", "fetch_format": "auto"},
    "card": {"width": 640, "height": 480, "crop": "fill", "fetch_format": "auto"},
}


@deconstructible
class CloudinaryMediaStorage(Storage):
    def _save(self, name: str, content) -> str:
        public_id, _ext = posixpath.splitext(name)
        content.seek(0)
        try:
            result = cloudinary.uploader.upload(
                content, public_id=public_id, resource_type="image", overwrite=False
            )
        except cloudinary.exceptions.Error as exc:
            logger.warning("cloudinary upload of %s failed: %s", public_id, exc)
            raise ServiceUnavailable("The image store is unavailable; try again shortly.") from exc
        return result["public_id"]

    def _open(self, name, mode="rb"):
        raise NotImplementedError("Cloudinary media is read through its URL.")

    def delete(self, name: str) -> None:
        if not name:
            return
        try:
            cloudinary.uploader.destroy(name, resource_type="image", invalidate=True)
        except cloudinary.exceptions.Error as exc:
            logger.warning("cloudinary destroy of %s failed (asset orphaned): %s", name, exc)

    def exists(self, name: str) -> bool:
        # Upload paths carry a random component, so names never collide.
        return False

    def url(self, name: str, variant: str | None = None) -> str:
        options = {"secure": True, "resource_type": "image"}
        if variant:
            options.update(TRANSFORMATIONS[variant])
        return cloudinary.CloudinaryImage(name).build_url(**options)

    def size(self, name: str) -> int:
        raise NotImplementedError("Cloudinary media size is not tracked locally.")
