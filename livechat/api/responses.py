"""How the REST API says no: one JSON shape, `{"code", "message"}`, with the status that fits the
code — for the actions' refusals, invalid input and DRF's own errors (sign-in, permission,
throttling, parsing) alike — and the same answers documented in the OpenAPI schema."""

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import api_view
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from livechat.conversations.permissions import ActionRefused, http_status

# DRF's error codes, as the rest of the API (and the socket protocol) spells them.
CODE_FOR_DRF_CODE = {
    "not_authenticated": "unauthenticated",
    "authentication_failed": "unauthenticated",
    "permission_denied": "forbidden",
    "throttled": "rate_limited",
    "parse_error": "invalid",
}


def refused(exc: ActionRefused) -> Response:
    return Response(
        {"code": exc.code, "message": exc.message},
        status=http_status(exc),
    )


def invalid(errors: Any) -> Response:
    return Response({"code": "invalid", "message": errors}, status=status.HTTP_400_BAD_REQUEST)


def not_found(message: str) -> Response:
    return Response({"code": "not_found", "message": message}, status=status.HTTP_404_NOT_FOUND)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """REST_FRAMEWORK's EXCEPTION_HANDLER: DRF's answer (status, WWW-Authenticate, Retry-After)
    with the body in the API's error shape."""
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # not an API error: a bug, which Django answers 500 and logs
    data = response.data
    detail = data.get("detail", data) if isinstance(data, dict) else data
    drf_code = str(getattr(detail, "code", None) or getattr(exc, "default_code", "error"))
    response.data = {"code": CODE_FOR_DRF_CODE.get(drf_code, drf_code), "message": detail}
    return response


@extend_schema(exclude=True)
@api_view(["GET", "POST", "PUT", "PATCH", "DELETE"])
def unknown_endpoint(request: Request, *args: Any, **kwargs: Any) -> Response:
    """Any other path under /api/v1/ (an id that is not a number, say): JSON, not an HTML page."""
    return not_found("No such endpoint.")


# --- The same, in the OpenAPI schema ------------------------------------------------------------


class ErrorBody(serializers.Serializer):
    code = serializers.CharField(
        help_text="What kind of error: invalid, unauthenticated, forbidden, not_found, already_claimed, "
        "invalid_state, rate_limited, …"
    )
    message = serializers.JSONField(
        help_text="A sentence for people; for `invalid`, the problems by field name (lists of sentences)."
    )


ERRORS = {
    400: "The request is invalid: `message` names the fields and what is wrong with them.",
    401: "No credentials, or wrong ones: sign in or send `Authorization: Token …`.",
    403: "Signed in, but not allowed: not a team member, or not the conversation's holder.",
    404: "No such conversation, message or endpoint.",
    409: "The conversation is not in a state that allows this (already claimed, closed, …).",
    415: "The body is not in a format this endpoint reads (JSON; multipart/form-data for images).",
    429: "Too many wrong tokens from this address; try again later (`Retry-After`).",
}
ALWAYS = (401, 403, 429)


def answers(ok: Any = OpenApiTypes.OBJECT, *errors: int, ok_status: int = 200) -> dict[int, Any]:
    """`extend_schema(responses=…)`: the success answer and every error the endpoint gives."""
    documented: dict[int, Any] = {ok_status: ok}
    for code in sorted({*errors, *ALWAYS}):
        documented[code] = OpenApiResponse(ErrorBody, description=ERRORS[code])
    return documented


def id_parameter(name: str, what: str) -> OpenApiParameter:
    return OpenApiParameter(name, int, OpenApiParameter.PATH, description=f"The {what}'s id.")
