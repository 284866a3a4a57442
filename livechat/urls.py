from django.urls import path

from livechat import outbound_media, views
from livechat.webhook import line_webhook

app_name = "livechat"
urlpatterns = [
    path("webhooks/line/", line_webhook, name="line-webhook"),
    path("media/messages/<int:message_id>/", views.media, name="media"),
    path("media/outbound/<str:token>/<str:name>", outbound_media.serve, name="outbound-media"),
]
