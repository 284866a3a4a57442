from django.urls import include, path

from livechat.console import canned_picker, team_views, views

app_name = "console"
urlpatterns = [
    path("", views.console, name="console"),
    path("settings/", include("livechat.console.settings.urls")),
    path("team/", team_views.team, name="team"),
    path("team/board.json", team_views.board, name="team-board"),
    path("team/conversations/<int:conversation_id>/reassign", team_views.reassign, name="team-reassign"),
    path("api/conversations", views.conversations, name="conversations"),
    path("api/counts", views.counts, name="counts"),
    path("api/line-usage", views.line_usage, name="line-usage"),
    path("api/conversations/<int:conversation_id>", views.conversation, name="conversation"),
    path("api/conversations/<int:conversation_id>/panel", views.panel, name="panel"),
    path("api/conversations/<int:conversation_id>/canned", canned_picker.picker, name="canned-picker"),
]
