"""Small HTTP views of the live-chat app (the console's pages arrive with the console)."""

from django.contrib.admin.views.decorators import staff_member_required
from django.http import FileResponse, Http404, HttpRequest
from django.shortcuts import get_object_or_404

from livechat.media import content_type_for
from livechat.models import Message


@staff_member_required
def media(request: HttpRequest, message_id: int) -> FileResponse:
    """A customer's image/video/audio/file. Who may call: logged-in staff only."""
    message = get_object_or_404(Message, pk=message_id)
    if message.media_status != Message.MediaStatus.STORED or message.is_unsent:
        raise Http404("No media for this message.")
    response = FileResponse(message.media.open("rb"), content_type=content_type_for(message))
    if message.type == Message.Type.FILE:
        response["Content-Disposition"] = f'attachment; filename="{message.media.name.rsplit("/", 1)[-1]}"'
    response["Cache-Control"] = "private, max-age=3600"
    return response
