from django.urls import path

from livechat.console import views
from livechat.line import hosted_images
from livechat.line.webhook import line_webhook

app_name = "livechat"
urlpatterns = [
    path("webhooks/line/", line_webhook, name="line-webhook"),
    path("media/messages/<int:message_id>/", views.media, name="media"),
    path("media/outbound/<str:token>/<str:name>", hosted_images.serve, name="outbound-media"),
]
