"""Django admin: messages are looked at, never added, changed or deleted there."""

import pytest
from django.urls import reverse

from livechat.conversations.store import append_message, start_conversation
from livechat.models import Contact, Message

pytestmark = pytest.mark.django_db


@pytest.fixture
def message() -> Message:
    conversation, _ = start_conversation(
        Contact.objects.create(line_user_id="U" + "a" * 32, display_name="Mali")
    )
    return append_message(
        conversation, direction="in", sender_kind="customer", type="text", text="สวัสดีค่ะ", status="received"
    )


def test_the_admin_lists_and_shows_messages_read_only(admin_client, message):
    listing = admin_client.get(reverse("admin:livechat_message_changelist"))
    assert listing.status_code == 200
    assert "สวัสดีค่ะ" in listing.content.decode()
    assert reverse("admin:livechat_message_add") not in listing.content.decode()  # no "Add message"

    page = admin_client.get(reverse("admin:livechat_message_change", args=[message.pk]))
    assert page.status_code == 200
    assert b'name="_save"' not in page.content  # nothing to save


def test_adding_changing_or_deleting_a_message_in_the_admin_is_refused(admin_client, message):
    add = admin_client.post(
        reverse("admin:livechat_message_add"),
        {"conversation": message.conversation_id, "direction": "out", "type": "text", "text": "x"},
    )
    assert add.status_code == 403  # was a 500: a message made there had no seq
    change = admin_client.post(
        reverse("admin:livechat_message_change", args=[message.pk]), {"text": "rewritten"}
    )
    assert change.status_code == 403
    delete = admin_client.post(reverse("admin:livechat_message_delete", args=[message.pk]), {"post": "yes"})
    assert delete.status_code == 403
    message.refresh_from_db()
    assert message.text == "สวัสดีค่ะ"
    assert Message.objects.count() == 1


def test_a_conversation_page_shows_its_messages_without_an_add_row(admin_client, message):
    page = admin_client.get(reverse("admin:livechat_conversation_change", args=[message.conversation_id]))
    assert page.status_code == 200
    assert "สวัสดีค่ะ" in page.content.decode()
    assert b"messages-empty" not in page.content  # no blank form to add one
