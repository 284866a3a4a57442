"""The canned responses page's form. The model holds the rules of each value (LINE's text limit,
the known variables, quick replies' limits, an image or a sticker); the form adds who owns the
response, the shortcut's uniqueness among its owner's, quick replies written one per line, and
the image upload."""

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from livechat.line import hosted_images
from livechat.models import CannedResponse
from livechat.models.canned import VARIABLES, validate_quick_replies

SEPARATOR = "|"


def quick_replies_as_text(items: list[dict[str, str]]) -> str:
    return "\n".join(
        item["label"] if item["label"] == item["text"] else f"{item['label']} {SEPARATOR} {item['text']}"
        for item in items
    )


def parse_quick_replies(text: str) -> list[dict[str, str]]:
    """One button a line: "label | text the customer sends", or just "label" (sends the label)."""
    items = []
    for line in text.splitlines():
        if not line.strip():
            continue
        label, _sep, said = line.partition(SEPARATOR)
        items.append({"label": label.strip(), "text": (said if _sep else label).strip()})
    return items


class CannedResponseForm(forms.ModelForm):
    shared = forms.BooleanField(
        label=_("Shared with the whole team"),
        required=False,
        help_text=_("Off: only you see it in your picker."),
    )
    quick_replies_text = forms.CharField(
        label=_("Quick replies"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_('One button a line: "label | text the customer sends", or just the label. At most 13.'),
    )
    image = forms.FileField(
        label=_("Image"), required=False, help_text=_("JPEG or PNG, at most 1 MB. Sent after the text.")
    )
    remove_image = forms.BooleanField(label=_("Remove the image"), required=False)

    class Meta:
        model = CannedResponse
        fields = ["title", "shortcut", "text", "sticker_package_id", "sticker_id", "is_active"]
        widgets = {"text": forms.Textarea(attrs={"rows": 5})}

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["text"].help_text = _("Variables filled in when sent: %(names)s") % {
            "names": ", ".join("{" + name + "}" for name in VARIABLES)
        }
        if self.instance.pk is None:
            # Only supervisors and admins make shared responses; an operator's are their own.
            if not user.is_supervisor:
                del self.fields["shared"]
        else:
            del self.fields["shared"]  # a response stays shared or personal
        if self.instance.pk is not None:
            self.initial["quick_replies_text"] = quick_replies_as_text(self.instance.quick_replies)

    def owner(self) -> User | None:
        if self.instance.pk is not None:
            return self.instance.owner
        return None if self.cleaned_data.get("shared") else self.user

    def clean_image(self) -> Any:
        upload = self.cleaned_data.get("image")
        if upload:
            try:
                hosted_images.image_kind(upload)
            except hosted_images.UploadRefused:
                raise ValidationError(
                    _("Only JPEG and PNG images can be sent on LINE."), code="image_kind"
                ) from None
            if upload.size > hosted_images.MAX_PREVIEW_BYTES:
                raise ValidationError(_("The image is larger than 1 MB."), code="image_size")
        return upload

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        self.instance.quick_replies = parse_quick_replies(data.get("quick_replies_text", ""))
        try:
            validate_quick_replies(self.instance.quick_replies)
        except ValidationError as exc:
            self.add_error("quick_replies_text", exc)
        if data.get("image"):
            # Marks the response as having an image for the model's checks; the file is stored
            # once everything is valid (see store_image).
            self.instance.image_path = self.instance.image_path or "pending"
        elif data.get("remove_image"):
            self.instance.image_path = ""
        owner = self.instance.owner = self.owner()
        shortcut = data.get("shortcut")
        if shortcut:
            taken = CannedResponse.objects.filter(owner=owner, shortcut=shortcut).exclude(pk=self.instance.pk)
            if taken.exists():
                message = (
                    _("A shared response already uses this shortcut.")
                    if owner is None
                    else _("You already have a response with this shortcut.")
                )
                self.add_error("shortcut", ValidationError(message, code="shortcut_taken"))
        return data
