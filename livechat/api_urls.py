from django.urls import path

from livechat import api, console_api

app_name = "api"
urlpatterns = [
    path("queue", api.queue, name="queue"),
    path("conversations/<int:conversation_id>", api.conversation_detail, name="conversation"),
    path("conversations/<int:conversation_id>/messages", api.conversation_messages, name="messages"),
    path("conversations/<int:conversation_id>/send", api.send_message, name="send"),
    path("conversations/<int:conversation_id>/claim", api.claim, name="claim"),
    path("conversations/<int:conversation_id>/close", api.close, name="close"),
    path("conversations/<int:conversation_id>/transfer", api.transfer, name="transfer"),
    path("conversations/<int:conversation_id>/send-image", console_api.send_image, name="send-image"),
    path("messages/<int:message_id>/retry", console_api.retry_message, name="retry"),
]
