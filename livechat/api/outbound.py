"""REST endpoints the console adds to `/api/v1/`: retry a failed send, send an uploaded image.

Who may call: like the rest of the API, any active team member (session or token); each action
then allows only the operator holding the conversation, or a supervisor.
"""

from typing import Any

from django.db import transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import api_view, parser_classes
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from livechat.api.views import _invalid, _refused
from livechat.conversations import actions
from livechat.delivery import sender
from livechat.line import hosted_images
from livechat.models import Conversation, Message
from livechat.realtime import publish
from livechat.realtime.payloads import message_payload


def _may_act(user: Any, conversation: Conversation) -> bool:
    return conversation.assigned_operator_id == user.pk or user.is_supervisor


@extend_schema(request=None, responses=OpenApiTypes.OBJECT)
@api_view(["POST"])
def retry_message(request: Request, message_id: int) -> Response:
    """Send a `failed` outbound message again (same retry key: LINE never delivers it twice)."""
    message = (
        Message.objects.select_related("conversation__contact", "operator").filter(pk=message_id).first()
    )
    if message is None:
        return _refused(actions.ActionRefused("not_found", f"Message {message_id} does not exist."))
    conversation = message.conversation
    if not _may_act(request.user, conversation):
        return _refused(
            actions.ActionRefused("forbidden", "Only the operator holding the conversation may retry.")
        )
    if message.direction != Message.Direction.OUT or message.status != Message.Status.FAILED:
        return _refused(
            actions.ActionRefused("invalid_state", "Only a failed outbound message can be retried.")
        )
    if conversation.status == Conversation.Status.CLOSED:
        return _refused(actions.ActionRefused("invalid_state", "The conversation is closed."))
    if not conversation.contact.is_following:
        return _refused(
            actions.ActionRefused(
                "invalid_state", "The customer unfollowed the account; LINE will not deliver."
            )
        )
    with transaction.atomic():
        if not sender.retry_failed(message):
            return _refused(actions.ActionRefused("invalid_state", "The message is no longer failed."))
        publish.publish_on_commit(
            (
                publish.conversation_group(conversation.pk),
                "message_status",
                {
                    "message_id": message.pk,
                    "conversation_id": conversation.pk,
                    "status": Message.Status.PENDING,
                },
            )
        )
    message.refresh_from_db()
    return Response({"message": message_payload(message)})


class ImageUpload(serializers.Serializer):
    image = serializers.FileField()
    preview = serializers.FileField(required=False)
    client_id = serializers.CharField(max_length=64)


@extend_schema(
    request={"multipart/form-data": ImageUpload},
    responses=OpenApiTypes.OBJECT,
)
@api_view(["POST"])
@parser_classes([MultiPartParser])
def send_image(request: Request, conversation_id: int) -> Response:
    """Store an uploaded JPEG/PNG at a public, unguessable URL and send it as a LINE image."""
    data = ImageUpload(data=request.data)
    if not data.is_valid():
        return _invalid(data.errors)
    v = data.validated_data
    duplicate = (
        Message.objects.select_related("operator")
        .filter(conversation_id=conversation_id, client_id=v["client_id"])
        .first()
    )
    if duplicate is not None:  # a resend after a lost answer: nothing new is stored or sent
        return Response({"client_id": v["client_id"], "message": message_payload(duplicate)})
    try:
        stored = hosted_images.store(v["image"], v.get("preview"))
    except hosted_images.UploadRefused as exc:
        return _invalid({"image": [str(exc)]})
    urls = {
        "originalContentUrl": hosted_images.public_url(request, stored.token, stored.original_name),
        "previewImageUrl": hosted_images.public_url(request, stored.token, stored.preview_name),
    }
    try:
        with transaction.atomic():
            message, created = actions.send_operator_message(
                conversation_id, request.user, client_id=v["client_id"], image=urls
            )
            if created:
                message.media.name = stored.original_path
                message.media_status = Message.MediaStatus.STORED
                message.save(update_fields=["media", "media_status"])
    except actions.ActionRefused as exc:
        stored.delete()
        return _refused(exc)
    if not created:
        stored.delete()
    return Response(
        {"client_id": v["client_id"], "message": message_payload(message)},
        status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
    )
