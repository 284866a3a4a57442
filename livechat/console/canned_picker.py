"""The composer's "/" picker: the operator's canned responses matching what they typed, each with
its text as this conversation's customer would get it (variables filled in, on the server).

Who may call: team members (console_json: 401 signed out, 403 without a team role). Each sees the
shared responses and their own only (livechat.conversations.canned.visible_to); any team member
may preview for any conversation, as any may open it.
"""

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from livechat.console.views import _me, _not_found, console_json
from livechat.conversations import canned
from livechat.models import Conversation

MAX_QUERY = 100


@require_GET
@console_json
def picker(request: HttpRequest, conversation_id: int) -> JsonResponse:
    """`?q=` searches shortcut, title and text (case-insensitive, Thai as a substring)."""
    query = request.GET.get("q", "")
    if len(query) > MAX_QUERY:
        return JsonResponse(
            {"code": "invalid", "message": f"Search for at most {MAX_QUERY} characters."}, status=400
        )
    conversation = Conversation.objects.select_related("contact").filter(pk=conversation_id).first()
    if conversation is None:
        return _not_found(conversation_id)
    operator = _me(request)
    found = canned.search(operator, query)[: canned.PICKER_LIMIT]
    filled = canned.variables(conversation, operator)
    return JsonResponse({"responses": [canned.picker_item(c, filled) for c in found]})
