"""Photos stored on Cloudinary: the real SDK talks to a local stand-in for its upload API."""

import email
import email.policy
import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import cloudinary
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from bookings.tests.factories import client_for
from properties.models import Photo
from properties.tests.factories import PropertyFactory, png_bytes, png_upload

pytestmark = pytest.mark.django_db

CLOUD = "parley-test"
API_KEY = "123456789012345"
API_SECRET = "local-test-secret"


def _form_fields(content_type: str, body: bytes) -> dict[str, tuple[str | None, bytes]]:
    """Parse a multipart/form-data body: field name -> (filename, bytes)."""
    message = email.message_from_bytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body, policy=email.policy.HTTP
    )
    assert message.is_multipart(), content_type
    fields = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        fields[name] = (part.get_filename(), part.get_payload(decode=True))
    return fields


def _signature_ok(fields: dict) -> bool:
    """Cloudinary's scheme: sha1 of the sorted ``k=v`` pairs (file, api_key excluded) + secret."""
    signed = {
        k: v.decode()
        for k, (filename, v) in fields.items()
        if k not in ("file", "signature", "api_key") and filename is None
    }
    to_sign = "&".join(f"{k}={v}" for k, v in sorted(signed.items()))
    expected = hashlib.sha1((to_sign + API_SECRET).encode()).hexdigest()  # noqa: S324 (their scheme)
    return fields["signature"][1].decode() == expected


class FakeCloudinary(BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("Content-Length", 0))
        fields = _form_fields(self.headers["Content-Type"], self.rfile.read(length))
        self.server.calls.append((self.path, fields))
        if self.path.endswith("/image/upload"):
            public_id = fields["public_id"][1].decode()
            payload = {
                "public_id": public_id,
                "version": 1700000000,
                "resource_type": "image",
                "format": "png",
                "secure_url": f"https://res.cloudinary.com/{CLOUD}/image/upload/v1700000000/"
                f"{public_id}.png",
            }
        elif self.path.endswith("/image/destroy") and not self.server.fail_destroy:
            payload = {"result": "ok"}
        else:
            self.send_response(500)
            payload = {"error": {"message": f"cannot serve {self.path}"}}
        body = json.dumps(payload).encode()
        if "error" not in payload:
            self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def fake_cloudinary(settings):
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeCloudinary)
    server.daemon_threads = True
    server.calls = []
    server.fail_destroy = False
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    cloudinary.config(
        cloud_name=CLOUD,
        api_key=API_KEY,
        api_secret=API_SECRET,
        secure=True,
        upload_prefix=f"http://127.0.0.1:{server.server_address[1]}",
    )
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "core.storage.CloudinaryMediaStorage"},
    }
    yield server
    server.shutdown()
    server.server_close()
    cloudinary.reset_config()


def test_photo_upload_and_delete_go_through_cloudinary(
    fake_cloudinary, django_capture_on_commit_callbacks
):
    prop = PropertyFactory()
    client = client_for(prop.host)
    image = png_bytes(size=(80, 60))
    upload = SimpleUploadedFile("balcony.png", image, content_type="image/png")
    response = client.post(
        f"/api/v1/properties/{prop.pk}/photos/", {"image": upload}, format="multipart"
    )
    assert response.status_code == 201, response.json()

    # The stand-in received exactly one signed multipart upload carrying the image.
    assert len(fake_cloudinary.calls) == 1
    path, fields = fake_cloudinary.calls[0]
    assert path == f"/v1_1/{CLOUD}/image/upload"
    assert fields["file"] == ("photo.png", image)  # renamed after its detected content
    assert fields["api_key"][1].decode() == API_KEY
    assert _signature_ok(fields)
    public_id = fields["public_id"][1].decode()
    assert public_id.startswith(f"properties/{prop.pk}/")

    # The row stores the public id Cloudinary answered with.
    photo = Photo.objects.get(pk=response.json()["id"])
    assert photo.image.name == public_id

    # API output: Cloudinary delivery URLs, sized by the named transformations.
    base = f"https://res.cloudinary.com/{CLOUD}/image/upload"
    assert response.json()["urls"] == {
        "url": f"{base}/v1/{public_id}",
        "thumb": f"{base}/c_fill,f_auto,h_240,w_320/v1/{public_id}",
        "card": f"{base}/c_fill,f_auto,h_480,w_640/v1/{public_id}",
    }
    listed = client.get(f"/api/v1/properties/{prop.pk}/photos/").json()
    assert listed[0]["urls"]["thumb"] == f"{base}/c_fill,f_auto,h_240,w_320/v1/{public_id}"

    # Deleting the photo destroys the asset once the transaction commits.
    with django_capture_on_commit_callbacks(execute=True):
        deleted = client.delete(f"/api/v1/properties/{prop.pk}/photos/{photo.pk}/")
    assert deleted.status_code == 204
    assert not Photo.objects.filter(pk=photo.pk).exists()
    assert len(fake_cloudinary.calls) == 2
    path, fields = fake_cloudinary.calls[1]
    assert path == f"/v1_1/{CLOUD}/image/destroy"
    assert fields["public_id"][1].decode() == public_id
    assert fields["invalidate"][1] in (b"1", b"true")
    assert _signature_ok(fields)


def test_unreachable_cloudinary_is_a_503_and_saves_no_photo(fake_cloudinary):
    cloudinary.config(upload_prefix="http://127.0.0.1:1")  # nothing listens there
    prop = PropertyFactory()
    response = client_for(prop.host).post(
        f"/api/v1/properties/{prop.pk}/photos/", {"image": png_upload()}, format="multipart"
    )
    assert response.status_code == 503
    assert response.json()["errors"][0]["code"] == "service_unavailable"
    assert not Photo.objects.filter(property=prop).exists()


def test_failed_destroy_still_deletes_the_photo(
    fake_cloudinary, django_capture_on_commit_callbacks
):
    prop = PropertyFactory()
    client = client_for(prop.host)
    created = client.post(
        f"/api/v1/properties/{prop.pk}/photos/", {"image": png_upload()}, format="multipart"
    )
    assert created.status_code == 201
    fake_cloudinary.fail_destroy = True
    with django_capture_on_commit_callbacks(execute=True):
        deleted = client.delete(f"/api/v1/properties/{prop.pk}/photos/{created.json()['id']}/")
    assert deleted.status_code == 204
    assert not Photo.objects.filter(property=prop).exists()
    assert [path for path, _ in fake_cloudinary.calls][-1].endswith("/image/destroy")
