"""`GET /analytics/export.csv?start=…&end=…`: one row per conversation of the period (PRODUCT §10),
UTF-8 with a BOM (so spreadsheet programs read Thai), times in ISO 8601 with the TIME_ZONE offset,
an empty cell where a value does not apply. Durations are analytics.metrics' own.

Who may call: supervisors and admins (session or API token); each export is in the audit log.

Streamed in pages of PAGE rows read by keyset (`id > last`), so memory stays flat however long
the period. The body is an async iterator: under daphne Django streams an async iterator as it
goes, whereas a sync one would be read whole first (each page is one query in a worker thread).
"""

import csv
import io
from collections.abc import AsyncIterator, Iterable
from datetime import datetime
from typing import Any, cast

from asgiref.sync import sync_to_async
from django.db.models import Count, IntegerField, OuterRef, StringAgg, Subquery, TextField, Value
from django.db.models.functions import Coalesce
from django.http import StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.decorators import api_view, permission_classes
from rest_framework.request import Request
from rest_framework.response import Response

from accounts import audit
from accounts.models import AuditLog, User
from analytics import metrics
from analytics.api import PERIOD_PARAMETERS
from analytics.period import InvalidPeriod, Period, parse
from analytics.permissions import SeesAnalytics
from analytics.planning import planned_each_time
from livechat.api.responses import answers, invalid
from livechat.models import Conversation

HEADER = (
    "conversation_id",
    "created_at",
    "status",
    "contact_name",
    "operator",
    "handoff_requested_at",
    "claimed_at",
    "first_response_at",
    "closed_at",
    "close_reason",
    "wait_seconds",
    "first_response_seconds",
    "resolution_seconds",
    "handle_seconds",
    "transfers",
    "csat_rating",
    "labels",
)
PAGE = 2000
BOM = "\ufeff"
# A cell starting with one of these is a formula to a spreadsheet: a customer's LINE name could
# run one on a supervisor's computer. Such text cells get a leading apostrophe (OWASP's advice).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _text(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def _time(value: datetime | None, period: Period) -> str:
    return "" if value is None else timezone.localtime(value, period.zone).isoformat()


def _seconds(value: float | None) -> str:
    return "" if value is None else str(metrics.one_decimal(value))


def _transfers() -> Coalesce:
    counted = metrics.transfer_events().order_by().values("conversation").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted), 0, output_field=IntegerField())


FIELDS = (
    "pk",
    "created_at",
    "status",
    "close_reason",
    *metrics.TIMES,
    "contact__display_name",
    "csat__rating",
)


# Between label names in the page's query; no name holds it (they are sorted and joined by `;`
# in Python: SQLite before 3.44 cannot order inside an aggregate).
UNIT_SEPARATOR = "\x1f"


def _labels() -> Subquery:
    """The conversation's label names, in the page's own query (one query per page)."""
    through: Any = cast(Any, Conversation._meta).get_field("labels").remote_field.through
    names = (
        through.objects.filter(conversation_id=OuterRef("pk"))
        .order_by()
        .values("conversation_id")
        .annotate(names=StringAgg("label__name", Value(UNIT_SEPARATOR)))
        .values("names")
    )
    return Subquery(names, output_field=TextField())


def _label_cell(names: str | None) -> str:
    return _text(";".join(sorted(names.split(UNIT_SEPARATOR)))) if names else ""


@planned_each_time
def page(period: Period, after: int, names: dict[int, str]) -> tuple[list[str], int | None]:
    """The CSV lines of up to PAGE conversations with ids above `after`, and the last id (None:
    that was all). One query per page, whatever the rows hold."""
    rows = list(
        metrics.with_first_claimer(metrics.conversations(period))
        .filter(pk__gt=after)
        .annotate(transfers=_transfers(), label_names=_labels())
        .order_by("pk")
        .values(*FIELDS, "first_claimer", "transfers", "label_names")[:PAGE]
    )
    seconds = metrics.clock(period)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in rows:
        writer.writerow(
            [
                row["pk"],
                _time(row["created_at"], period),
                row["status"],
                _text(row["contact__display_name"] or ""),
                _text(names.get(row["first_claimer"], "")) if row["first_claimer"] else "",
                *(_time(row[name], period) for name in metrics.TIMES),
                _text(row["close_reason"]),
                *(_seconds(metrics.span(row, key, seconds)) for key in metrics.SPANS),
                row["transfers"],
                "" if row["csat__rating"] is None else row["csat__rating"],
                _label_cell(row["label_names"]),
            ]
        )
    last = rows[-1]["pk"] if len(rows) == PAGE else None
    return [buffer.getvalue()], last


def operator_names() -> dict[int, str]:
    return {user.pk: user.name for user in User.objects.all()}


def lines(period: Period) -> Iterable[str]:
    """The whole file, synchronously (a management command, a test)."""
    yield BOM + ",".join(HEADER) + "\r\n"
    names = operator_names()
    after: int | None = 0
    while after is not None:
        chunk, after = page(period, after, names)
        yield from chunk


async def stream(period: Period) -> AsyncIterator[str]:
    yield BOM + ",".join(HEADER) + "\r\n"
    names = await sync_to_async(operator_names)()
    after: int | None = 0
    while after is not None:
        chunk, after = await sync_to_async(page)(period, after, names)
        for text in chunk:
            yield text


@extend_schema(
    parameters=PERIOD_PARAMETERS,
    request=None,
    responses=answers(
        OpenApiResponse(
            OpenApiTypes.BINARY, description="text/csv; UTF-8 with BOM; header row: " + ",".join(HEADER)
        ),
        400,
    ),
    tags=["analytics"],
)
@api_view(["GET"])
@permission_classes([SeesAnalytics])
def export_csv(request: Request) -> StreamingHttpResponse | Response:
    try:
        period = parse(request.query_params)
    except InvalidPeriod as error:
        return invalid(str(error))
    audit.record(
        AuditLog.Kind.EXPORT,
        actor=cast(User, request.user),
        request=request._request,
        target="analytics: conversations CSV",
        changes={
            "format": "csv",
            **period.as_dict(),
            "operator": period.operator_id,
            "label": period.label_id,
        },
    )
    response = StreamingHttpResponse(stream(period), content_type="text/csv; charset=utf-8")
    name = f"conversations-{period.start.isoformat()}-{period.end.isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response
