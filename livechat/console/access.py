"""Who may open a console page or call a console JSON endpoint — one decorator of each kind.

Every page: anonymous → the login page (with ?next=); signed in without a team role → 403 with
`console/no_team_role.html`; a team member the page's rule refuses → 403 with the page's own
template, which says why. Every JSON endpoint: 401 `unauthenticated`, 403 `forbidden`.
The rules themselves live in livechat.conversations.permissions.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render

from livechat.conversations import permissions

Rule = Callable[[Any], bool]
NOT_IN_TEAM = "Only members of the support team may use the console."


def staff_page(
    may: Rule | None = None, forbidden_template: str = ""
) -> Callable[[Callable[..., HttpResponseBase]], Callable[..., HttpResponseBase]]:
    """A page for team members, and of those only whom `may` lets through."""

    def decorator(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not permissions.is_team_member(request.user):
                return render(request, "console/no_team_role.html", status=403)
            if may is not None and not may(request.user):
                return render(request, forbidden_template, status=403)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def staff_json(
    may: Rule | None = None, forbidden_message: str = NOT_IN_TEAM
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """A JSON endpoint for team members, and of those only whom `may` lets through."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return JsonResponse({"code": "unauthenticated", "message": "Sign in first."}, status=401)
            if not permissions.is_team_member(request.user):
                return JsonResponse({"code": "forbidden", "message": NOT_IN_TEAM}, status=403)
            if may is not None and not may(request.user):
                return JsonResponse({"code": "forbidden", "message": forbidden_message}, status=403)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
