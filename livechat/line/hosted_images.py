"""Images operators send: stored on Django's storage under a public, unguessable path.

LINE does not take the bytes of an image message: it takes two https URLs
(`originalContentUrl`, `previewImageUrl`) and fetches them itself, without our login. So an
operator's upload is stored at `outbound/<random 32-character token>/<name>` and served to anyone
holding the URL by `serve` — the token is the only key, like a LINE content URL.

LINE's limits: JPEG or PNG, original ≤ 10 MB, preview ≤ 1 MB, https. The console makes the
preview in the browser (a small JPEG), so no image library is needed here.
"""

import re
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import File
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest
from django.urls import reverse
from django.views.decorators.http import require_safe

PREFIX = "outbound"
MAX_ORIGINAL_BYTES = 10 * 1024 * 1024
MAX_PREVIEW_BYTES = 1024 * 1024
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{32}$")
NAMES = {"original.jpg", "original.png", "preview.jpg", "preview.png"}
CONTENT_TYPES = {"jpg": "image/jpeg", "png": "image/png"}


class UploadRefused(ValueError):
    """The upload is not an image LINE accepts."""


@dataclass(frozen=True)
class StoredImage:
    token: str
    original_name: str
    preview_name: str

    @property
    def original_path(self) -> str:
        return f"{PREFIX}/{self.token}/{self.original_name}"

    @property
    def preview_path(self) -> str:
        return f"{PREFIX}/{self.token}/{self.preview_name}"

    def delete(self) -> None:
        for path in {self.original_path, self.preview_path}:
            default_storage.delete(path)


def files_stored_with(path: str) -> list[str]:
    """Every file stored along with the sent image at `path` (its original and its preview share
    the token's folder), or [] if `path` is not one of ours."""
    parts = path.split("/")
    if len(parts) != 3 or parts[0] != PREFIX or not TOKEN_RE.match(parts[1]):
        return []
    return [f"{PREFIX}/{parts[1]}/{name}" for name in sorted(NAMES)]


def image_kind(upload: File) -> str:
    """'jpg' or 'png' by the file's first bytes (never by its name or declared type)."""
    upload.seek(0)
    head = upload.read(8)
    upload.seek(0)
    if head.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    raise UploadRefused("Only JPEG and PNG images can be sent on LINE.")


def store(original: File, preview: File | None) -> StoredImage:
    """Check and store an upload (and its preview; the original serves as one if small enough)."""
    original_kind = image_kind(original)
    if original.size > MAX_ORIGINAL_BYTES:
        raise UploadRefused("The image is larger than LINE's 10 MB limit.")
    if preview is not None:
        preview_kind = image_kind(preview)
        if preview.size > MAX_PREVIEW_BYTES:
            raise UploadRefused("The preview is larger than LINE's 1 MB limit.")
    elif original.size > MAX_PREVIEW_BYTES:
        raise UploadRefused("An image over 1 MB needs a preview image.")
    token = secrets.token_urlsafe(24)  # 32 characters, 192 bits
    stored = StoredImage(
        token=token,
        original_name=f"original.{original_kind}",
        preview_name=f"preview.{preview_kind}" if preview is not None else f"original.{original_kind}",
    )
    default_storage.save(stored.original_path, original)
    if preview is not None:
        default_storage.save(stored.preview_path, preview)
    return stored


def public_url(request: HttpRequest, token: str, name: str) -> str:
    """The absolute URL LINE fetches. LINE (and the simulator, which refuses what LINE refuses)
    takes only https; pages served over plain http in development show it by its path."""
    path = reverse("livechat:outbound-media", args=[token, name])
    base = getattr(settings, "PUBLIC_BASE_URL", "")
    url = base.rstrip("/") + path if base else request.build_absolute_uri(path)
    if url.startswith("http://"):
        url = "https://" + url.removeprefix("http://")
    return url


@require_safe
def serve(request: HttpRequest, token: str, name: str) -> FileResponse:
    """An operator's sent image. Who may call: anyone with the URL (LINE fetches it)."""
    if not TOKEN_RE.match(token) or name not in NAMES:
        raise Http404("No such image.")
    path = f"{PREFIX}/{token}/{name}"
    if not default_storage.exists(path):
        raise Http404("No such image.")
    response = FileResponse(default_storage.open(path, "rb"), content_type=CONTENT_TYPES[name.rsplit(".")[1]])
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    return response


def copy(path: str) -> StoredImage:
    """A stored image (≤ 1 MB: it is its own preview) copied under a new token, so that the sent
    message owns its file: erasing or expiring the conversation removes the copy only, never the
    image kept elsewhere (a canned response's)."""
    kind = path.rsplit(".", 1)[-1]
    if not files_stored_with(path) or kind not in CONTENT_TYPES:
        raise UploadRefused("Not a stored image.")
    token = secrets.token_urlsafe(24)
    name = f"original.{kind}"
    stored = StoredImage(token=token, original_name=name, preview_name=name)
    with default_storage.open(path, "rb") as source:
        default_storage.save(stored.original_path, File(source))
    return stored
