"""REST API `/api/v1/` — the same actions as the socket, for non-browser clients and fallback.

Who may call: any active logged-in team member (session) or API token holder
(`Authorization: Token …`). Permission rules per action are the actions' own (livechat.conversations.actions).
"""

from typing import Any, cast

from django.utils.translation import gettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import api_view
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import User
from livechat.api.responses import answers, id_parameter, invalid, not_found, refused
from livechat.conversations import actions, history
from livechat.conversations import queue as waiting
from livechat.conversations.actions import ActionRefused, Actor
from livechat.models import Conversation
from livechat.realtime import protocol
from livechat.realtime.payloads import conversation_payload, message_payload


def actor_of(request: Request) -> Actor:
    """The signed-in team member (session or token) as the actor of what they ask for."""
    return Actor.staff(cast(User, request.user))


def _fields(request: Request) -> dict[str, Any]:
    """The request body's fields; a body that is not an object has none (validation says what
    is missing, instead of a 500)."""
    return dict(request.data) if isinstance(request.data, dict) else {}


class MessagesQuery(serializers.Serializer):
    after_seq = serializers.IntegerField(required=False, min_value=0)
    before_seq = serializers.IntegerField(required=False, min_value=1)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=200, default=50)


CONVERSATION = id_parameter("conversation_id", "conversation")


@extend_schema(
    parameters=[
        CONVERSATION,
        OpenApiParameter("after_seq", int),
        OpenApiParameter("before_seq", int),
        OpenApiParameter("limit", int),
    ],
    request=None,
    responses=answers(OpenApiTypes.OBJECT, 400, 404),
)
@api_view(["GET"])
def conversation_messages(request: Request, conversation_id: int) -> Response:
    """Messages by seq: `after_seq` → everything after it (resync); else the latest page."""
    query = MessagesQuery(data=request.query_params)
    if not query.is_valid():
        return invalid(query.errors)
    if not Conversation.objects.filter(pk=conversation_id).exists():
        return not_found(gettext("No such conversation."))
    limit = query.validated_data["limit"]
    if "after_seq" in query.validated_data:
        messages = history.after(conversation_id, query.validated_data["after_seq"], limit=limit + 1)
        has_more = len(messages) > limit
        messages = messages[:limit]
    else:
        before = query.validated_data.get("before_seq")
        messages = history.latest(conversation_id, before_seq=before, limit=limit + 1)
        has_more = len(messages) > limit
        messages = messages[-limit:]
    return Response(
        {
            "conversation_id": conversation_id,
            "messages": [message_payload(m) for m in messages],
            "has_more": has_more,
        }
    )


@extend_schema(parameters=[CONVERSATION], request=None, responses=answers(OpenApiTypes.OBJECT, 404))
@api_view(["GET"])
def conversation_detail(request: Request, conversation_id: int) -> Response:
    conversation = (
        Conversation.objects.select_related("contact", "assigned_operator").filter(pk=conversation_id).first()
    )
    if conversation is None:
        return not_found(gettext("No such conversation."))
    return Response(conversation_payload(conversation))


@extend_schema(
    parameters=[CONVERSATION],
    request=protocol.SendMessage,
    responses={
        **answers(OpenApiTypes.OBJECT, 400, 404, 409, 415, ok_status=201),
        200: OpenApiResponse(OpenApiTypes.OBJECT, description="Sent before (same client_id): nothing new."),
    },
)
@api_view(["POST"])
def send_message(request: Request, conversation_id: int) -> Response:
    data = protocol.SendMessage(data={**_fields(request), "conversation_id": conversation_id})
    if not data.is_valid():
        return invalid(data.errors)
    v = data.validated_data
    try:
        message, created = actions.send_operator_message(
            conversation_id,
            actor_of(request),
            client_id=v["client_id"],
            text=v.get("text"),
            sticker=v.get("sticker"),
            canned_id=v.get("canned_id"),
            quote_message_id=v.get("quote_message_id"),
        )
    except ActionRefused as exc:
        return refused(exc)
    return Response(
        {"client_id": v["client_id"], "message": message_payload(message)},
        status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
    )


@extend_schema(parameters=[CONVERSATION], request=None, responses=answers(OpenApiTypes.OBJECT, 404, 409))
@api_view(["POST"])
def claim(request: Request, conversation_id: int) -> Response:
    try:
        conversation = actions.claim(conversation_id, actor_of(request))
    except ActionRefused as exc:
        return refused(exc)
    return Response(conversation_payload(conversation))


@extend_schema(
    parameters=[CONVERSATION],
    request=protocol.CloseSession,
    responses=answers(OpenApiTypes.OBJECT, 400, 404, 409, 415),
)
@api_view(["POST"])
def close(request: Request, conversation_id: int) -> Response:
    data = protocol.CloseSession(data={**_fields(request), "conversation_id": conversation_id})
    if not data.is_valid():
        return invalid(data.errors)
    try:
        conversation = actions.close(conversation_id, actor_of(request), data.validated_data["reason"])
    except ActionRefused as exc:
        return refused(exc)
    return Response(conversation_payload(conversation))


@extend_schema(
    parameters=[CONVERSATION],
    request=protocol.TransferSession,
    responses=answers(OpenApiTypes.OBJECT, 400, 404, 409, 415),
)
@api_view(["POST"])
def transfer(request: Request, conversation_id: int) -> Response:
    data = protocol.TransferSession(data={**_fields(request), "conversation_id": conversation_id})
    if not data.is_valid():
        return invalid(data.errors)
    v = data.validated_data
    try:
        conversation = actions.transfer(
            conversation_id,
            actor_of(request),
            to_operator_id=v.get("to_operator_id"),
            to_queue=v.get("to_queue", False),
            note=v["note"],
        )
    except ActionRefused as exc:
        return refused(exc)
    return Response(conversation_payload(conversation))


@extend_schema(request=None, responses=answers(OpenApiTypes.OBJECT))
@api_view(["GET"])
def queue(request: Request) -> Response:
    return Response({"waiting": waiting.snapshot()})
