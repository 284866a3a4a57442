from django.urls import path

from livechat import console_views

app_name = "console"
urlpatterns = [
    path("", console_views.console, name="console"),
    path("api/conversations", console_views.conversations, name="conversations"),
    path("api/counts", console_views.counts, name="counts"),
    path("api/conversations/<int:conversation_id>", console_views.conversation, name="conversation"),
    path("api/conversations/<int:conversation_id>/panel", console_views.panel, name="panel"),
]
