"""Simulator URLs. Every view is wrapped so that with LINE_SIMULATOR off it is a plain 404."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from livechat.simulator import api, control, phone


def simulator_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not settings.LINE_SIMULATOR:
            raise Http404("The LINE simulator is not enabled.")
        return view(request, *args, **kwargs)

    return wrapped


def _api(name: str) -> Callable[..., HttpResponse]:
    return csrf_exempt(simulator_only(lambda request, **kw: api.endpoint(request, name, **kw)))


def _control(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    return csrf_exempt(simulator_only(control.controllers_only(view)))


app_name = "simulator"
urlpatterns = [
    path("", simulator_only(phone.page), name="phone"),
    path("phone/users", simulator_only(phone.users), name="phone-users"),
    path("phone/send", simulator_only(phone.send), name="phone-send"),
    path("phone/inbox", simulator_only(phone.inbox), name="phone-inbox"),
    path("phone/content/<str:message_id>", simulator_only(phone.content), name="phone-content"),
    path("line-api/v2/bot/message/reply", _api("reply"), name="reply"),
    path("line-api/v2/bot/message/push", _api("push"), name="push"),
    path("line-api/v2/bot/profile/<str:user_id>", _api("profile"), name="profile"),
    path("line-api/v2/bot/chat/loading/start", _api("loading"), name="loading"),
    path("line-api/v2/bot/chat/markAsRead", _api("mark_as_read"), name="mark-as-read"),
    path("line-api/v2/bot/message/quota", _api("quota"), name="quota"),
    path("line-api/v2/bot/message/quota/consumption", _api("quota_consumption"), name="quota-consumption"),
    path("line-api/v2/bot/message/<str:message_id>/content", _api("content"), name="content"),
    path(
        "line-api/v2/bot/message/<str:message_id>/content/transcoding",
        _api("transcoding"),
        name="content-transcoding",
    ),
    path("control/calls", _control(control.calls), name="calls"),
    path("control/fail", _control(control.fail), name="fail"),
    path("control/reset", _control(control.reset), name="reset"),
    path("control/quota", _control(control.quota), name="quota-control"),
    path("control/transcoding", _control(control.transcoding), name="transcoding-control"),
]
