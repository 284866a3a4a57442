import pytest

from livechat.models import Contact, Conversation, Message, WebhookEvent
from livechat.simulator import events as ev
from livechat.simulator.models import SimulatorProfile

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.smoke]


def test_a_customer_asking_for_a_human_is_queued_and_told_their_position(line, webhook, settle):
    user = ev.new_user_id()
    SimulatorProfile.objects.create(user_id=user, display_name="คุณสมศรี")  # a friend of the OA on LINE
    response = webhook(ev.text_event(user, "สวัสดีค่ะ"), ev.text_event(user, "คุยกับเจ้าหน้าที่"))
    assert response.status_code == 200
    settle()

    conversation = Conversation.objects.get(contact__line_user_id=user)
    assert conversation.status == Conversation.Status.WAITING
    assert list(conversation.messages.values_list("seq", "direction", "status")) == [
        (1, "in", "received"),
        (2, "out", "sent"),  # the bot's fallback to the greeting, with a "talk to a human" button
        (3, "in", "received"),
        (4, "out", "sent"),
    ]
    # Both answers went out free, by reply — in one request or two, depending on whether the first
    # was still waiting when the second was queued (messages of a conversation go out in batches).
    replies = line.calls(endpoint="reply")
    assert {c["status"] for c in replies} == {200}
    texts = [m["text"] for c in replies for m in c["body"]["messages"]]
    assert len(texts) == 2
    assert "ลำดับที่ 1" in texts[1]
    assert Contact.objects.get(line_user_id=user).display_name == "คุณสมศรี"  # from LINE's profile API
    assert WebhookEvent.objects.count() == 2


def test_a_bad_signature_is_refused_and_nothing_is_stored(webhook):
    response = webhook(ev.text_event(ev.new_user_id(), "hi"), signature="c2lnbmF0dXJl")
    assert response.status_code == 400
    assert WebhookEvent.objects.count() == 0
    assert Message.objects.count() == 0
