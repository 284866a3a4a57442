"""The labels settings page (`/console/settings/labels/`): the labels operators put on
conversations — add, rename or recolour, delete.

Who may call: supervisors and admins (permissions.may_manage_labels, through settings_page).
Each change writes one `settings_changed` audit row (target "labels") with the labels before and
after as {name: colour}. Deleting a label takes it off every conversation that had it.
"""

from typing import Any

from django import forms
from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from livechat.console.settings import changes
from livechat.console.settings.views import _page, settings_page
from livechat.models import Label


class LabelForm(forms.ModelForm):
    class Meta:
        model = Label
        fields = ["name", "colour"]
        widgets = {"colour": forms.TextInput(attrs={"type": "color"})}

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"].strip()
        clash = Label.objects.filter(name__iexact=name).exclude(pk=self.instance.pk)
        if clash.exists():
            raise forms.ValidationError(_("There is already a label with this name."))
        return name

    def clean_colour(self) -> str:
        colour: str = self.cleaned_data["colour"]
        return colour.lower()


def of_labels() -> dict[str, Any]:
    """Every label as {name: colour}, for the audit log."""
    return dict(Label.objects.order_by("name").values_list("name", "colour"))


def _listing(request: HttpRequest, form: LabelForm, editing: Label | None = None) -> HttpResponse:
    labels = [
        (
            label,
            form
            if editing is not None and label.pk == editing.pk
            else LabelForm(instance=label, prefix=f"l{label.pk}"),
        )
        for label in Label.objects.order_by("name")
    ]
    new_form = form if editing is None else LabelForm()
    return _page(request, "labels", "labels.html", {"form": new_form, "labels": labels})


@settings_page
def labels(request: HttpRequest) -> HttpResponse:
    """Every label, each editable; add one."""
    form = LabelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            before = of_labels()
            form.save()
            changes.record(request, "labels", before, of_labels())
        messages.success(request, _("Label added."))
        return redirect("console:settings:labels")
    return _listing(request, form)


@require_POST
@settings_page
def edit_label(request: HttpRequest, label_id: int) -> HttpResponse:
    """Rename or recolour a label: conversations that have it keep it."""
    label = get_object_or_404(Label, pk=label_id)
    form = LabelForm(request.POST, instance=label, prefix=f"l{label.pk}")
    if not form.is_valid():
        return _listing(request, form, editing=label)
    with transaction.atomic():
        before = of_labels()
        form.save()
        changed = changes.record(request, "labels", before, of_labels())
    messages.success(request, _("Label saved.") if changed else _("Nothing changed."))
    return redirect("console:settings:labels")


@require_POST
@settings_page
def delete_label(request: HttpRequest, label_id: int) -> HttpResponse:
    label = get_object_or_404(Label, pk=label_id)
    with transaction.atomic():
        before = of_labels()
        label.delete()
        changes.record(request, "labels", before, of_labels())
    messages.success(request, _("Label deleted."))
    return redirect("console:settings:labels")
