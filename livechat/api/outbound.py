"""REST endpoints the console adds to `/api/v1/`: retry a failed send, send an uploaded image.

Who may call: like the rest of the API, any active team member (session or token); each action
then allows only the operator holding the conversation, or a supervisor.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import api_view, parser_classes
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from livechat.api.responses import answers, id_parameter, invalid, refused
from livechat.api.views import actor_of
from livechat.conversations import actions
from livechat.conversations.actions import ActionRefused
from livechat.line import hosted_images
from livechat.models import Message
from livechat.realtime.payloads import message_payload


@extend_schema(
    parameters=[id_parameter("message_id", "failed outbound message")],
    request=None,
    responses=answers(OpenApiTypes.OBJECT, 404, 409),
)
@api_view(["POST"])
def retry_message(request: Request, message_id: int) -> Response:
    """Send a `failed` outbound message again (same retry key: LINE never delivers it twice)."""
    try:
        message = actions.retry_message(message_id, actor_of(request))
    except ActionRefused as exc:
        return refused(exc)
    return Response({"message": message_payload(message)})


class ImageUpload(serializers.Serializer):
    image = serializers.FileField()
    preview = serializers.FileField(required=False)
    client_id = serializers.CharField(max_length=64)


@extend_schema(
    parameters=[id_parameter("conversation_id", "conversation")],
    request={"multipart/form-data": ImageUpload},
    responses={
        **answers(OpenApiTypes.OBJECT, 400, 404, 409, 415, ok_status=201),
        200: OpenApiResponse(OpenApiTypes.OBJECT, description="Sent before (same client_id): nothing new."),
    },
)
@api_view(["POST"])
@parser_classes([MultiPartParser])
def send_image(request: Request, conversation_id: int) -> Response:
    """Store an uploaded JPEG/PNG at a public, unguessable URL and send it as a LINE image."""
    data = ImageUpload(data=request.data)
    if not data.is_valid():
        return invalid(data.errors)
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
        return invalid({"image": [str(exc)]})
    urls = {
        "originalContentUrl": hosted_images.public_url(request, stored.token, stored.original_name),
        "previewImageUrl": hosted_images.public_url(request, stored.token, stored.preview_name),
    }
    try:
        message, created = actions.send_operator_message(
            conversation_id,
            actor_of(request),
            client_id=v["client_id"],
            image=urls,
            image_path=stored.original_path,
        )
    except ActionRefused as exc:
        stored.delete()
        return refused(exc)
    if not created:
        stored.delete()
    return Response(
        {"client_id": v["client_id"], "message": message_payload(message)},
        status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
    )
