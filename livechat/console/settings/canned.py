"""The canned responses page (`/console/settings/canned/`): the shared responses and the signed-in
team member's own, with a form to add or edit one.

Who may call: any team member (signed out → the login page; no team role → 403). Everyone sees
the shared responses and their own; supervisors and admins edit the shared ones, each member
edits only their own (livechat.conversations.canned.may_edit) — anything else is a 403 page and
changes nothing. Each save or deletion writes one `settings_changed` audit row (changes.record).
"""

from typing import Any, cast

from django.contrib import messages
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import User
from livechat.console import access
from livechat.console.settings import changes
from livechat.console.settings.canned_forms import CannedResponseForm
from livechat.conversations import canned
from livechat.line import hosted_images
from livechat.models import CannedResponse

AUDITED_FIELDS = (
    "title",
    "shortcut",
    "text",
    "image_path",
    "sticker_package_id",
    "sticker_id",
    "quick_replies",
    "is_active",
)

team_page = access.staff_page()


def _target(response: CannedResponse) -> str:
    owner = response.owner.get_username() if response.owner is not None else "shared"
    return f"canned:{owner}:{response.shortcut}"


def _snapshot(response: CannedResponse | None) -> dict[str, Any]:
    if response is None or response.pk is None:
        return {}
    return changes.of_row(response, AUDITED_FIELDS)


def _forbidden(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "console/settings/canned_forbidden.html",
        {"section": "canned"},
        status=403,
    )


def _store_image(request: HttpRequest, response: CannedResponse, upload: UploadedFile) -> None:
    stored = hosted_images.store(upload, None)
    response.image_path = stored.original_path
    response.image_url = hosted_images.public_url(request, stored.token, stored.original_name)
    response.image_preview_url = hosted_images.public_url(request, stored.token, stored.preview_name)


def _forget_image_on_commit(path: str) -> None:
    """Remove a response's old image once the change is committed. Sent messages own copies of
    it (livechat.conversations.canned.own_copy_of_image), so nothing sent loses its image."""

    def forget() -> None:
        for stored in hosted_images.files_stored_with(path):
            default_storage.delete(stored)

    if path:
        transaction.on_commit(forget)


def _listing(user: User) -> list[tuple[CannedResponse, bool]]:
    visible = CannedResponse.objects.filter(Q(owner__isnull=True) | Q(owner=user)).select_related("owner")
    return [(r, canned.may_edit(user, r)) for r in visible.order_by("owner_id", "shortcut")]


@team_page
def canned_responses(request: HttpRequest, canned_id: int | None = None) -> HttpResponse:
    """The list, and the form: a new response, or `canned_id` to edit."""
    user = cast(User, request.user)
    response = get_object_or_404(CannedResponse, pk=canned_id) if canned_id is not None else None
    if response is not None and not canned.may_edit(user, response):
        return _forbidden(request)
    before = _snapshot(response)
    old_image = response.image_path if response is not None else ""
    form = CannedResponseForm(
        request.POST or None, request.FILES or None, instance=response or CannedResponse(), user=user
    )
    if request.method == "POST" and form.is_valid():
        saved = form.save(commit=False)
        upload = form.cleaned_data.get("image")
        if form.cleaned_data.get("remove_image") and not upload:
            saved.image_url = saved.image_preview_url = ""
        with transaction.atomic():
            if upload:
                _store_image(request, saved, upload)
            saved.save()
            if saved.image_path != old_image:
                _forget_image_on_commit(old_image)
            changed = changes.record(request, _target(saved), before, _snapshot(saved))
        if changed:
            messages.success(request, _("Saved. The picker offers it at once."))
        else:
            messages.info(request, _("Nothing changed."))
        return redirect("console:settings:canned")
    return render(
        request,
        "console/settings/canned.html",
        {"section": "canned", "form": form, "editing": response, "responses": _listing(user)},
    )


@require_POST
@team_page
def delete_canned_response(request: HttpRequest, canned_id: int) -> HttpResponse:
    user = cast(User, request.user)
    response = get_object_or_404(CannedResponse, pk=canned_id)
    if not canned.may_edit(user, response):
        return _forbidden(request)
    with transaction.atomic():
        changes.record(request, _target(response), _snapshot(response), {})
        response.delete()
        _forget_image_on_commit(response.image_path)
    messages.success(request, _("Canned response deleted."))
    return redirect("console:settings:canned")
