from django.urls import path

from livechat.api import outbound, views

app_name = "api"
urlpatterns = [
    path("queue", views.queue, name="queue"),
    path("conversations/<int:conversation_id>", views.conversation_detail, name="conversation"),
    path("conversations/<int:conversation_id>/messages", views.conversation_messages, name="messages"),
    path("conversations/<int:conversation_id>/send", views.send_message, name="send"),
    path("conversations/<int:conversation_id>/claim", views.claim, name="claim"),
    path("conversations/<int:conversation_id>/close", views.close, name="close"),
    path("conversations/<int:conversation_id>/transfer", views.transfer, name="transfer"),
    path("conversations/<int:conversation_id>/send-image", outbound.send_image, name="send-image"),
    path("messages/<int:message_id>/retry", outbound.retry_message, name="retry"),
]
