"""The audit log page (`/console/settings/audit/`) and its CSV export (`…/audit/export.csv`).

Who may call: supervisors and admins (the settings pages' rule, views.settings_page): signed out →
the login page; an operator → 403. Read-only: both are GETs and change nothing — except that the
export, a copy of personal data leaving the app, is itself written to the audit log.
"""

import csv
from collections.abc import AsyncIterator, Iterator
from typing import Any

from asgiref.sync import sync_to_async
from django import forms
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from accounts import audit
from accounts.models import AuditLog, User
from livechat.console.settings import audit_trail
from livechat.console.settings.views import settings_page

CSV_HEADER = ["time", "kind", "who", "address", "what", "from", "to", "details"]
BOM = "\ufeff"  # so that Excel opens the Thai text as UTF-8
EXPORT_CHUNK = 500  # entries read (two queries) per chunk sent


class AuditFilterForm(forms.Form):
    person = forms.ModelChoiceField(
        queryset=User.objects.order_by("username"),
        required=False,
        label=gettext_lazy("Person"),
        empty_label=gettext_lazy("Everyone"),
    )
    kind = forms.ChoiceField(required=False, label=gettext_lazy("Kind"))
    start = forms.DateField(
        required=False, label=gettext_lazy("Since"), widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        required=False, label=gettext_lazy("Until"), widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        kind = self.fields["kind"]
        assert isinstance(kind, forms.ChoiceField)
        kind.choices = [("", _("Every kind")), *audit_trail.kind_choices()]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and end < start:
            raise forms.ValidationError(_("The end date is before the start date."), code="end_before_start")
        return cleaned

    def filters(self) -> audit_trail.Filters:
        data = self.cleaned_data
        return audit_trail.Filters(
            person=data.get("person"),
            kind=data.get("kind") or "",
            start=data.get("start"),
            end=data.get("end"),
        )


@require_GET
@settings_page
def audit_log(request: HttpRequest) -> HttpResponse:
    """The filtered trail, newest first, a page at a time (`?after=` the last entry shown)."""
    form = AuditFilterForm(request.GET or None)
    entries: list[audit_trail.Entry] = []
    more = False
    if form.is_bound and not form.is_valid():
        status = 400
    else:
        status = 200
        filters = form.filters() if form.is_bound else audit_trail.Filters()
        cursor = audit_trail.Cursor.decode(request.GET.get("after", ""))
        entries, more = audit_trail.page(filters, cursor)
    query = request.GET.copy()
    query.pop("after", None)
    next_query = query.copy()
    if more:
        next_query["after"] = entries[-1].cursor.encode()
    return render(
        request,
        "console/settings/audit.html",
        {
            "section": "audit",
            "form": form,
            "entries": entries,
            "more": more,
            "paged": "after" in request.GET,
            "first_page_query": query.urlencode(),
            "next_page_query": next_query.urlencode(),
        },
        status=status,
    )


class _Echo:
    """A file-like object whose write hands the line back, for csv.writer in a generator."""

    def write(self, value: str) -> str:
        return value


_csv = csv.writer(_Echo())


def _csv_rows(entries: list[audit_trail.Entry]) -> str:
    return "".join(
        _csv.writerow(
            [
                timezone.localtime(entry.at).isoformat(),
                entry.kind,
                entry.who,
                entry.address,
                entry.what,
                entry.from_value,
                entry.to_value,
                entry.details_text,
            ]
        )
        for entry in entries
    )


def _csv_chunks(filters: audit_trail.Filters) -> Iterator[str]:
    yield BOM + _csv.writerow(CSV_HEADER)
    for entries in audit_trail.chunks(filters, EXPORT_CHUNK):
        yield _csv_rows(entries)


async def _csv_chunks_async(filters: audit_trail.Filters) -> AsyncIterator[str]:
    """The same, for daphne: Django would read a synchronous iterator to its end before sending a
    byte under ASGI, so each chunk's queries run in the sync thread between sends instead."""
    yield BOM + _csv.writerow(CSV_HEADER)
    cursor = None
    while True:
        entries, more = await sync_to_async(audit_trail.page)(filters, cursor, EXPORT_CHUNK)
        yield _csv_rows(entries)
        if not more or not entries:
            return
        cursor = entries[-1].cursor


@require_GET
@settings_page
def export_csv(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    """The filtered trail as CSV (UTF-8 with BOM), streamed a chunk of rows at a time."""
    form = AuditFilterForm(request.GET)
    if not form.is_valid():
        errors = "; ".join(str(e) for errs in form.errors.values() for e in errs)
        return HttpResponse(errors, status=400, content_type="text/plain; charset=utf-8")
    filters = form.filters()
    user = request.user
    # Recorded before the rows are read, so the export lists itself: it happened.
    audit.record(
        AuditLog.Kind.EXPORT,
        actor=user if isinstance(user, User) else None,
        request=request,
        target="audit_log",
        changes={"filters": filters.as_dict()},
    )
    chunks = _csv_chunks_async(filters) if isinstance(request, ASGIRequest) else _csv_chunks(filters)
    response = StreamingHttpResponse(chunks, content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="audit-log-{stamp}.csv"'
    return response
