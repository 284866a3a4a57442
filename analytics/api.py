"""`/api/v1/analytics/…`: the KPIs of PRODUCT §10 as JSON (analytics.metrics computes them).

Who may call: supervisors and admins, by session or API token (`Authorization: Token …`);
operators get 403, anyone else 401. Query parameters: `start`, `end` (local dates, inclusive;
default the last 7 days), `business_hours=1`, `operator=<id>`, `label=<id>`. Bad ones get 400
`{"code": "invalid", "message": …}`.
"""

from collections.abc import Callable
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.decorators import api_view, permission_classes
from rest_framework.request import Request
from rest_framework.response import Response

from analytics import metrics
from analytics.period import InvalidPeriod, Period, parse
from analytics.permissions import SeesAnalytics
from livechat.api.responses import answers, invalid

PERIOD_PARAMETERS = [
    OpenApiParameter("start", OpenApiTypes.DATE, description="First local date (TIME_ZONE), inclusive."),
    OpenApiParameter("end", OpenApiTypes.DATE, description="Last local date, inclusive (default today)."),
    OpenApiParameter(
        "business_hours", int, enum=[0, 1], description="1: durations count business hours only."
    ),
    OpenApiParameter("operator", int, description="Only conversations this operator claimed first."),
    OpenApiParameter("label", int, description="Only conversations with this label."),
]

DURATION = {"count": 5, "avg": 10344.0, "p50": 180.0, "p90": 30696.0, "p95": 40848.0}
SUMMARY_EXAMPLE = {
    "period": {"start": "2026-11-02", "end": "2026-11-02", "business_hours": False},
    "conversations": 8,
    "handoffs": 7,
    "claimed": 5,
    "abandoned": 1,
    "bot_contained": 1,
    "wait_seconds": DURATION,
    "first_response_seconds": {"count": 5, "avg": 10440.0, "p50": 300.0, "p90": 30816.0, "p95": 40968.0},
    "resolution_seconds": {"count": 6, "avg": 10250.0, "p50": 1740.0, "p90": 27840.0, "p95": 40320.0},
    "handle_seconds": {"count": 5, "avg": 1716.0, "p50": 1560.0, "p90": 2340.0, "p95": 2520.0},
    "transfers": 2,
    "csat": {
        "surveys_sent": 3,
        "responses": 2,
        "response_rate": 66.7,
        "average": 3.5,
        "satisfied_percent": 50.0,
        "distribution": {"1": 0, "2": 1, "3": 0, "4": 0, "5": 1},
    },
    "fcr_percent": 40.0,
    "sla": {
        "first_response": {"target_seconds": 300, "measured": 5, "met": 3, "hit_rate": 60.0},
        "resolution": {"target_seconds": 86400, "measured": 6, "met": 6, "hit_rate": 100.0},
    },
    "line": {"reply_sends": 2, "push_sends": 1},
}
TIMESERIES_EXAMPLE = {
    "interval": "day",
    "points": [
        {
            "bucket": "2026-11-02",
            "conversations": 8,
            "handoffs": 7,
            "claimed": 5,
            "abandoned": 1,
            "bot_contained": 1,
            "wait_p50": 180.0,
            "first_response_p50": 300.0,
            "resolution_p50": 1740.0,
            "csat_average": 3.5,
        }
    ],
}
HEATMAP_EXAMPLE = {
    "cells": [{"weekday": 0, "hour": 0, "handoffs": 0}, {"weekday": 0, "hour": 9, "handoffs": 3}]
}
OPERATORS_EXAMPLE = {
    "operators": [
        {
            "id": 7,
            "name": "Somchai",
            "claimed": 3,
            "closed": 3,
            "wait_seconds": {"count": 3, "avg": 160.0, "p50": 180.0, "p90": 180.0, "p95": 180.0},
            "first_response_seconds": {"count": 3, "avg": 260.0, "p50": 240.0, "p90": 336.0, "p95": 348.0},
            "handle_seconds": {"count": 3, "avg": 1740.0, "p50": 1500.0, "p90": 2460.0, "p95": 2580.0},
            "csat_average": 5.0,
            "csat_responses": 1,
        }
    ]
}
FUNNEL_EXAMPLE = {
    "steps": [
        {"key": "conversations", "count": 8},
        {"key": "handoffs", "count": 7},
        {"key": "claimed", "count": 5},
        {"key": "responded", "count": 5},
        {"key": "closed", "count": 5},
        {"key": "rated", "count": 2},
    ]
}


def _documented(description: str, example: dict[str, Any], *extra: OpenApiParameter) -> Callable[..., Any]:
    return extend_schema(
        parameters=[*PERIOD_PARAMETERS, *extra],
        request=None,
        responses=answers(
            OpenApiResponse(
                OpenApiTypes.OBJECT,
                description=description,
                examples=[OpenApiExample("One Monday", value=example, response_only=True)],
            ),
            400,
        ),
        tags=["analytics"],
    )


def _answer(request: Request, report: Callable[[Period], dict[str, Any]]) -> Response:
    try:
        period = parse(request.query_params)
    except InvalidPeriod as error:
        return invalid(str(error))
    return Response(report(period))


@_documented("PRODUCT §10's figures of the period's conversations.", SUMMARY_EXAMPLE)
@api_view(["GET"])
@permission_classes([SeesAnalytics])
def summary(request: Request) -> Response:
    return _answer(request, metrics.summary)


INTERVAL = OpenApiParameter("interval", str, enum=["day", "hour"], description="Bucket size (default day).")


@_documented(
    "One point per local day or hour of the period, zeros and nulls where empty.",
    TIMESERIES_EXAMPLE,
    INTERVAL,
)
@api_view(["GET"])
@permission_classes([SeesAnalytics])
def timeseries(request: Request) -> Response:
    interval = request.query_params.get("interval") or "day"
    if interval not in ("day", "hour"):
        return invalid("interval must be day or hour.")
    return _answer(request, lambda period: metrics.timeseries(period, interval))


@_documented("Handoffs by local weekday (0 = Monday) and hour: all 168 cells.", HEATMAP_EXAMPLE)
@api_view(["GET"])
@permission_classes([SeesAnalytics])
def heatmap(request: Request) -> Response:
    return _answer(request, metrics.heatmap)


@_documented("Per operator, by first claim.", OPERATORS_EXAMPLE)
@api_view(["GET"])
@permission_classes([SeesAnalytics])
def operators(request: Request) -> Response:
    return _answer(request, metrics.operators)


@_documented("Conversations → handed off → claimed → answered → closed → rated.", FUNNEL_EXAMPLE)
@api_view(["GET"])
@permission_classes([SeesAnalytics])
def funnel(request: Request) -> Response:
    return _answer(request, metrics.funnel)
