"""A correctly signed body with a hostile or broken event in it: that event is kept with the
reason it could not be processed, the body is answered 200, and the events next to it are
processed as if it were not there. Only an unreachable database makes LINE deliver again.
"""

import json
import math
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from livechat.models import Message, WebhookEvent
from livechat.simulator import events as ev

pytestmark = pytest.mark.django_db(transaction=True)


def post_raw(client: Client, body: str) -> Any:
    """A body as raw text (NaN, deep nesting … are not what json.dumps would write)."""
    data = body.encode()
    return client.post(
        "/webhooks/line/",
        data=data,
        content_type="application/json",
        headers={"X-Line-Signature": ev.sign(data, settings.LINE_CHANNEL_SECRET)},
    )


def body_of(*events: str) -> str:
    return '{"destination": "Uxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "events": [' + ", ".join(events) + "]}"


def good_event() -> tuple[str, str]:
    """A normal text message from a new customer: (its JSON, the text to look for)."""
    text = f"ปกติดีค่ะ {ev.new_message_id()}"
    return json.dumps(ev.text_event(ev.new_user_id(), text), ensure_ascii=False), text


def stored_text(text: str) -> bool:
    return Message.objects.filter(text=text).exists()


def hostile(**changes: Any) -> dict[str, Any]:
    event = ev.text_event(ev.new_user_id(), "hello")
    for path, value in changes.items():
        target = event
        *parents, key = path.split("__")
        for parent in parents:
            target = target[parent]
        target[key] = value
    return event


HOSTILE_EVENTS: dict[str, Any] = {
    "NUL in the text": hostile(message__text="a\x00b"),
    "NUL in the user id": hostile(source__userId="U\x00" + "0" * 31),
    "a user id longer than LINE's": hostile(source__userId="U" + "f" * 300),
    "a message id longer than LINE's": hostile(message__id="9" * 300),
    "a reply token longer than LINE's": hostile(replyToken="r" * 300),
    "a webhookEventId longer than LINE's": hostile(webhookEventId="E" * 300),
    "a webhookEventId that is an object": hostile(webhookEventId={"id": 1}),
    "source is a string": hostile(source="user"),
    "source is a list": hostile(source=["user"]),
    "userId is a number": hostile(source__userId=12345),
    "userId is an object": hostile(source__userId={"id": "U1"}),
    "message is a string": hostile(message="hi"),
    "a timestamp out of range": hostile(timestamp=10**30),
    "an event that is not an object": "just a string",
    "an event that is a list": [1, 2, 3],
}


@pytest.mark.parametrize("case", HOSTILE_EVENTS, ids=list(HOSTILE_EVENTS))
def test_a_hostile_event_is_kept_with_a_reason_and_the_next_one_is_processed(client: Client, case: str):
    bad = json.dumps(HOSTILE_EVENTS[case], ensure_ascii=False)
    good, text = good_event()

    response = post_raw(client, body_of(bad, good))
    again = post_raw(client, body_of(bad, good))  # LINE redelivers: same answer, nothing twice

    assert (response.status_code, again.status_code) == (200, 200)
    assert stored_text(text)
    assert Message.objects.filter(text=text).count() == 1
    assert WebhookEvent.objects.count() == 2  # the hostile one is kept too


def test_a_message_id_already_stored_under_another_event_does_not_block_the_batch(client: Client):
    first = ev.text_event(ev.new_user_id(), "first")
    copy = ev.message_event(ev.new_user_id(), {"type": "text", "text": "copy", "id": first["message"]["id"]})
    good, text = good_event()

    response = post_raw(client, body_of(json.dumps(first), json.dumps(copy), good))

    assert response.status_code == 200
    assert stored_text("first") and stored_text(text)
    kept = WebhookEvent.objects.get(webhook_event_id=copy["webhookEventId"])
    assert "IntegrityError" in kept.processing_error


def test_nan_and_infinity_are_read_as_null_not_refused(client: Client):
    event = json.dumps(ev.text_event(ev.new_user_id(), "nan"))
    event = event.replace('"mode": "active"', '"mode": "active", "score": NaN, "limit": Infinity')
    good, text = good_event()

    response = post_raw(client, body_of(event, good))

    assert response.status_code == 200
    assert stored_text("nan") and stored_text(text)
    raw = WebhookEvent.objects.exclude(raw__message__text=text).get().raw
    assert (raw["score"], raw["limit"]) == (None, None)


def test_json_nested_a_hundred_thousand_deep_is_refused_as_malformed(client: Client):
    depth = 100_000
    response = post_raw(client, body_of('{"deep": ' + "[" * depth + "]" * depth + "}"))

    assert response.status_code == 400
    assert response.json() == {"error": "Malformed webhook body."}
    assert WebhookEvent.objects.count() == 0


def test_admins_find_the_events_that_could_not_be_processed(client: Client, admin_client: Client):
    first = ev.text_event(ev.new_user_id(), "first")
    copy = ev.message_event(ev.new_user_id(), {"type": "text", "text": "copy", "id": first["message"]["id"]})
    post_raw(client, body_of(json.dumps(first), json.dumps(copy)))

    page = admin_client.get("/admin/livechat/webhookevent/?failed=yes")

    assert page.status_code == 200
    assert copy["webhookEventId"] in page.content.decode()
    assert first["webhookEventId"] not in page.content.decode()


# --- Fuzzing: LINE-shaped events with a field made hostile -------------------------------------------

ANYTHING = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=80),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3)
    ),
    max_leaves=8,
)
FIELDS = [
    "type",
    "mode",
    "timestamp",
    "webhookEventId",
    "replyToken",
    "source",
    "source__type",
    "source__userId",
    "message",
    "message__id",
    "message__type",
    "message__text",
    "message__contentProvider",
    "deliveryContext",
]


@st.composite
def line_shaped_events(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["text", "image", "sticker", "location", "postback", "follow", "unsend"]))
    user = ev.new_user_id()
    base = {
        "text": lambda: ev.text_event(user, "hi"),
        "image": lambda: ev.image_event(user),
        "sticker": lambda: ev.sticker_event(user),
        "location": lambda: ev.location_event(user, "สยาม", "กรุงเทพ", 13.74, 100.53),
        "postback": lambda: ev.postback_event(user, "action=handoff"),
        "follow": lambda: ev.follow_event(user),
        "unsend": lambda: ev.unsend_event(user, ev.new_message_id()),
    }[kind]()
    for path in draw(st.lists(st.sampled_from(FIELDS), min_size=1, max_size=3, unique=True)):
        target = base
        *parents, key = path.split("__")
        for parent in parents:
            if not isinstance(target.get(parent), dict):
                target[parent] = {}
            target = target[parent]
        target[key] = draw(ANYTHING)
    return base


@hypothesis_settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(event=line_shaped_events())
def test_fuzz_no_event_gets_a_500_or_blocks_the_one_after_it(client: Client, event: dict[str, Any]):
    good, text = good_event()

    response = post_raw(client, body_of(json.dumps(event, ensure_ascii=False, allow_nan=True), good))

    assert response.status_code == 200, response.content
    assert stored_text(text)


def test_storable_keeps_what_it_can() -> None:
    from livechat.line.inbound import storable

    kept = storable({"a\x00": ["x\x00y", math.nan, math.inf, 1.5, {"deep": [[[]]]}]})

    assert kept == {"a\ufffd": ["x\ufffdy", None, None, 1.5, {"deep": [[[]]]}]}
