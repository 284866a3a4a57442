from django.urls import path, re_path, register_converter

from livechat.api import outbound, personal_data, responses, views


class IdConverter:
    """A row id: digits that fit a bigint. A longer number is no id of ours (404, not a database
    error)."""

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(IdConverter, "id")

app_name = "api"
urlpatterns = [
    path("queue", views.queue, name="queue"),
    path("conversations/<id:conversation_id>", views.conversation_detail, name="conversation"),
    path("conversations/<id:conversation_id>/messages", views.conversation_messages, name="messages"),
    path("conversations/<id:conversation_id>/send", views.send_message, name="send"),
    path("conversations/<id:conversation_id>/claim", views.claim, name="claim"),
    path("conversations/<id:conversation_id>/close", views.close, name="close"),
    path("conversations/<id:conversation_id>/transfer", views.transfer, name="transfer"),
    path("conversations/<id:conversation_id>/send-image", outbound.send_image, name="send-image"),
    path("messages/<id:message_id>/retry", outbound.retry_message, name="retry"),
    path("contacts/<id:contact_id>/export", personal_data.export_contact, name="contact-export"),
    path("contacts/<id:contact_id>/erase", personal_data.erase_contact, name="contact-erase"),
    re_path(r"", responses.unknown_endpoint),  # last: JSON 404 for anything else under /api/v1/
]
