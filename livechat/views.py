"""Small HTTP views of the live-chat app (the console's pages arrive with the console)."""

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest
from django.shortcuts import get_object_or_404

from livechat.media import content_type_for
from livechat.models import Message


@login_required
def media(request: HttpRequest, message_id: int) -> FileResponse:
    """A customer's image/video/audio/file. Who may call: any logged-in team member.

    Not `staff_member_required`: operators use the console, not the admin, and need no is_staff.
    """
    message = get_object_or_404(Message, pk=message_id)
    if message.media_status != Message.MediaStatus.STORED or message.is_unsent:
        raise Http404("No media for this message.")
    is_file = message.type == Message.Type.FILE
    response = FileResponse(
        message.media.open("rb"),
        content_type=content_type_for(message),
        as_attachment=is_file,
        # The customer's own file name (FileResponse quotes it safely, Thai included).
        filename=str(message.payload.get("fileName") or "") if is_file else "",
    )
    response["Cache-Control"] = "private, max-age=3600"
    return response
