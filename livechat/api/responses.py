"""How the REST API says no: one JSON shape {code, message} with the status that fits the code."""

from typing import Any

from rest_framework import status
from rest_framework.response import Response

from livechat.conversations.permissions import ActionRefused

STATUS_FOR_CODE = {
    "not_found": status.HTTP_404_NOT_FOUND,
    "forbidden": status.HTTP_403_FORBIDDEN,
    "already_claimed": status.HTTP_409_CONFLICT,
    "invalid_state": status.HTTP_409_CONFLICT,
}


def refused(exc: ActionRefused) -> Response:
    return Response(
        {"code": exc.code, "message": exc.message},
        status=STATUS_FOR_CODE.get(exc.code, status.HTTP_400_BAD_REQUEST),
    )


def invalid(errors: Any) -> Response:
    return Response({"code": "invalid", "message": errors}, status=status.HTTP_400_BAD_REQUEST)
