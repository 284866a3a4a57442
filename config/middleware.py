"""Request-wide behaviour that belongs to no one view."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse

from livechat.jobs import database

RETRY_AFTER_SECONDS = 5


class DatabaseUnavailableMiddleware:
    """A request that could not reach the database gets a clear 503 at once — JSON for the API,
    a short page for browsers — instead of a 500 and a traceback; the pool is then checked so
    that the next request gets a live connection."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, database.UNREACHABLE):
            return None
        database.after_unreachable()
        message = "The database is unavailable; try again in a few seconds."
        response: HttpResponse
        if request.path.startswith("/api/") or "json" in request.headers.get("Accept", ""):
            response = JsonResponse({"code": "unavailable", "message": message}, status=503)
        else:
            response = HttpResponse(message, status=503, content_type="text/plain; charset=utf-8")
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
