"""The supervisors' team board (`/console/team/`), its data (`/console/team/board.json`) and the
reassign control (`POST /console/team/conversations/<id>/reassign`).

Who may call: supervisors and admins (permissions.may_supervise_team). The page sends signed-out
visitors to the login page and shows operators a 403 page; the JSON endpoints answer 401/403.

Live updates: the page polls board.json every few seconds rather than following the socket's
frames. The board is an aggregate (presence, load per person, the queue, SLA risk) that no single
frame carries — rebuilding it in the browser from presence_update, queue_update,
conversation_update and sla_alert deltas would copy the server's rules into JavaScript, and a
supervisor's second tab would open a second socket that counts as presence. One fixed-cost
request (two queries and one Redis read) per supervisor every few seconds is cheap and always
consistent with the database, whichever daphne process answers.
"""

import json
from typing import cast

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.models import User
from livechat.console import access, team_board
from livechat.conversations import actions, permissions
from livechat.conversations.permissions import ActionRefused

REFRESH_SECONDS = 5
supervisor_page = access.staff_page(permissions.may_supervise_team, "console/team_forbidden.html")
supervisor_json = access.staff_json(
    permissions.may_supervise_team, "Only supervisors and admins may use the team board."
)


@require_GET
@supervisor_page
def team(request: HttpRequest) -> HttpResponse:
    data = {
        "board": team_board.board(),
        "refresh_seconds": REFRESH_SECONDS,
        "urls": {
            "board": reverse("console:team-board"),
            "reassign": reverse("console:team-reassign", args=[0]),
            "console": reverse("console:console"),
        },
    }
    return render(request, "console/team.html", {"team_data": data, "labels": _labels()})


def _labels() -> dict[str, str]:
    """The words the page's script writes, in the page's language."""
    return {
        "online": _("Online"),
        "away": _("Away"),
        "offline": _("Offline"),
        "queue": _("To the queue"),
        "reassign": _("Reassign"),
        "breach": _("SLA breached"),
        "warning": _("SLA warning"),
        "first_response": _("first response"),
        "next_response": _("next response"),
        "resolution": _("resolution"),
        "due": _("due"),
        "nobody": _("Nobody"),
        "waiting": _("Waiting"),
        "active": _("Active"),
        "choose": _("Choose…"),
        "done": _("Reassigned."),
        "failed": _("Could not reassign:"),
        "stale": _("Could not refresh; retrying."),
        "empty_queue": _("Nobody is waiting."),
        "empty_risk": _("No conversation is at risk."),
        "empty_active": _("No active conversations."),
        "updated": _("updated"),
    }


@require_GET
@supervisor_json
def board(request: HttpRequest) -> JsonResponse:
    return JsonResponse(team_board.board())


@require_POST
@supervisor_json
def reassign(request: HttpRequest, conversation_id: int) -> JsonResponse:
    """Hand an active conversation to another team member or back to the queue, as the
    supervisor (actions.transfer records the event and tells every console). Body (JSON):
    `{"to": <operator id> | "queue", "note"?: str}`."""
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        return JsonResponse({"code": "bad_json", "message": "The body is not JSON."}, status=400)
    target = body.get("to") if isinstance(body, dict) else None
    note = body.get("note", "") if isinstance(body, dict) else ""
    if not isinstance(note, str) or len(note) > 1000:
        return JsonResponse(
            {"code": "invalid", "message": "The note must be text, at most 1000 characters."}, status=400
        )
    to_queue = target == "queue"
    if not to_queue and not (isinstance(target, int) and not isinstance(target, bool)):
        return JsonResponse(
            {"code": "invalid", "message": 'Give "to": an operator\'s id, or "queue".'}, status=400
        )
    actor = actions.Actor.staff(cast(User, request.user))
    try:
        conversation = actions.transfer(
            conversation_id,
            actor,
            to_operator_id=None if to_queue else target,
            to_queue=to_queue,
            note=note,
        )
    except ActionRefused as refused:
        return JsonResponse(
            {"code": refused.code, "message": refused.message}, status=permissions.http_status(refused)
        )
    return JsonResponse(
        {
            "conversation_id": conversation.pk,
            "status": conversation.status,
            "assigned_operator": conversation.assigned_operator_id,
        }
    )
