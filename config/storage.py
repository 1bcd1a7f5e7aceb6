"""Django storage backed by Cloudinary (used when ``CLOUDINARY_URL`` is set).

The cloudinary SDK reads ``CLOUDINARY_URL`` itself. Names stored in the database
are Cloudinary public ids; URLs are built by the SDK, with optional named
transformations (thumbnail/card sizes) for API output.
"""

import posixpath

import cloudinary
import cloudinary.uploader
from django.core.files.storage import Storage
from django.utils.deconstruct import deconstructible

TRANSFORMATIONS = {
    "thumb": {"width": 320, "height": 240, "crop": "fill", "fetch_format": "auto"},
    "card": {"width": 640, "height": 480, "crop": "fill", "fetch_format": "auto"},
}


@deconstructible
class CloudinaryMediaStorage(Storage):
    def _save(self, name: str, content) -> str:
        public_id, _ext = posixpath.splitext(name)
        content.seek(0)
        result = cloudinary.uploader.upload(
            content, public_id=public_id, resource_type="image", overwrite=False
        )
        return result["public_id"]

    def _open(self, name, mode="rb"):
        raise NotImplementedError("Cloudinary media is read through its URL.")

    def delete(self, name: str) -> None:
        if name:
            cloudinary.uploader.destroy(name, resource_type="image", invalidate=True)

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
