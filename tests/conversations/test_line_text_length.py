"""LINE counts a text's length in UTF-16 code units (an emoji like 😊 counts 2): every text that
goes to LINE is measured that way, so what we accept LINE accepts too."""

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from livechat.models import BotSettings, CannedResponse, Conversation, Message
from livechat.models.line_text import line_length
from tests.factories import open_conversation

pytestmark = pytest.mark.django_db

TOO_LONG = "😊" * 2501  # 2,501 characters but 5,002 units: LINE refuses it
LONGEST = "😊" * 2500


def test_an_emoji_counts_two_and_a_thai_letter_one() -> None:
    assert line_length("😊") == 2
    assert line_length("สวัสดีค่ะ") == len("สวัสดีค่ะ")
    assert line_length(TOO_LONG) == 5002


def test_an_operator_text_that_line_would_refuse_is_refused_before_it_is_stored(operator) -> None:
    conversation = open_conversation("Ploy", Conversation.Status.ACTIVE, operator=operator)
    client = Client()
    client.force_login(operator)

    refused = client.post(
        f"/api/v1/conversations/{conversation.pk}/send",
        {"client_id": "c-1", "text": TOO_LONG},
        content_type="application/json",
    )
    accepted = client.post(
        f"/api/v1/conversations/{conversation.pk}/send",
        {"client_id": "c-2", "text": LONGEST},
        content_type="application/json",
    )

    assert refused.status_code == 400
    assert refused.json()["code"] == "invalid"
    assert "text" in refused.json()["message"]
    assert accepted.status_code == 201
    assert list(
        Message.objects.filter(direction=Message.Direction.OUT).values_list("client_id", flat=True)
    ) == ["c-2"]


def test_canned_responses_and_bot_texts_are_held_to_the_same_count() -> None:
    with pytest.raises(ValidationError):
        CannedResponse(title="Emoji", shortcut="emoji", text=TOO_LONG).full_clean()
    with pytest.raises(ValidationError):
        BotSettings(welcome_message=TOO_LONG).full_clean()
    CannedResponse(title="Emoji", shortcut="emoji", text=LONGEST).full_clean()
