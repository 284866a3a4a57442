"""Who may read the analytics (API, CSV, dashboard): supervisors and admins."""

from typing import TYPE_CHECKING, Any

from rest_framework.permissions import BasePermission

from livechat.conversations.permissions import is_team_member

if TYPE_CHECKING:
    from rest_framework.request import Request
    from rest_framework.views import APIView


def may_see_analytics(user: Any) -> bool:
    return is_team_member(user) and bool(user.is_supervisor)


class SeesAnalytics(BasePermission):
    """The REST rule: `may_see_analytics` (operators are answered 403, strangers 401)."""

    message = "Only supervisors and admins may see the analytics."

    def has_permission(self, request: "Request", view: "APIView") -> bool:
        return may_see_analytics(request.user)
