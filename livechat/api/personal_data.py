"""REST endpoints for a customer's personal data (PDPA): export it as JSON, or erase it.

Who may call: supervisors and admins (session or token); operators are answered 403. Both are
written to the audit log (livechat.conversations.personal_data).
"""

from typing import cast

from django.http import HttpResponse
from django.utils.translation import gettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.decorators import api_view, permission_classes
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import User
from livechat.api.responses import answers, id_parameter, not_found
from livechat.conversations import personal_data
from livechat.conversations.permissions import HandlesPersonalData

CONTACT = id_parameter("contact_id", "contact (customer)")


def _requester(request: Request) -> personal_data.Requester:
    return personal_data.Requester(user=cast(User, request.user), request=request._request)


class Erased(serializers.Serializer):
    conversations_closed = serializers.IntegerField(help_text="Open conversations closed (reason `erased`).")
    messages = serializers.IntegerField(help_text="Messages whose text, details and media were erased.")
    media_files = serializers.IntegerField(help_text="Files removed from storage.")
    event_notes = serializers.IntegerField(help_text="Handover notes erased from conversation events.")
    csat_comments = serializers.IntegerField(
        help_text="Comments erased from CSAT ratings (the ratings stay)."
    )
    webhook_events = serializers.IntegerField(help_text="Raw webhook bodies from this LINE user erased.")
    profile = serializers.IntegerField(help_text="1 if the profile was erased now, 0 if it already was.")
    private_notes = serializers.IntegerField(
        help_text="The team's private notes on their conversations deleted."
    )
    contact_details = serializers.IntegerField(
        help_text="1 if the team's notes and custom fields about them were erased now, else 0."
    )


class Erasure(serializers.Serializer):
    contact_id = serializers.IntegerField()
    erased = Erased()


@extend_schema(
    parameters=[CONTACT],
    request=None,
    responses=answers(
        OpenApiResponse(
            OpenApiTypes.OBJECT,
            description="Everything held about the contact, as a JSON download: `format_version`, "
            "`exported_at`, `contact`, `conversations`, `messages`, `events`, `sla_alerts`, `csat`.",
        ),
        404,
    ),
)
@api_view(["GET"])
@permission_classes([HandlesPersonalData])
def export_contact(request: Request, contact_id: int) -> HttpResponse | Response:
    contact = personal_data.find(contact_id=contact_id)
    if contact is None:
        return not_found(gettext("No such contact."))
    # Built in a fixed number of queries; joined here because Django's ASGI handler reads a
    # streamed response whole anyway.
    body = "".join(personal_data.export(contact, _requester(request)))
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{personal_data.file_name(contact)}"'
    response["Cache-Control"] = "no-store"
    return response


@extend_schema(parameters=[CONTACT], request=None, responses=answers(Erasure, 404))
@api_view(["POST"])
@permission_classes([HandlesPersonalData])
def erase_contact(request: Request, contact_id: int) -> Response:
    contact = personal_data.find(contact_id=contact_id)
    if contact is None:
        return not_found(gettext("No such contact."))
    erased = personal_data.erase(contact, _requester(request))
    return Response({"contact_id": contact.pk, "erased": erased})
