"""Known conversations for the analytics browser story (tests/browser/test_analytics_real_stories.py),
written straight into the rows (PRODUCT §10: "a test may write those rows directly") of the
database the story's daphne serves, so that every figure on the dashboard can be computed by hand.

Run inside that server's environment (`manage.py shell -c "…write()"`): days are counted back
from the server's own local date (TIME_ZONE), so the dashboard's presets find them. Business
hours: every day 09:00–18:00. Local times (D-n = n days before today):

| | day | created | handoff | first claim (who) | first response | closed | else |
|---|---|---|---|---|---|---|---|
| a | D-1 | 08:40 | 08:50 | 09:10 (Somchai) | 09:12 | 09:40 | CSAT 5; labels billing, vip |
| b | D-2 | 10:00 | 10:05 | 10:08 (Nok) | 10:10 | 10:30 | → Somchai 10:15; CSAT 3 |
| c | D-3 | 17:50 | 17:55 | — | — | 18:30 | abandoned |
| d | D-3 | 12:00 | — | — | — | — | still with the bot |
| e | D-10 | 14:00 | 14:00 | 14:30 (Somchai) | 14:31 | 15:00 | |
| f | D-15 | 11:00 | — | — | — | 11:05 | the bot alone |

Outbound sends: a: reply 09:12, reply 09:30; b: reply 10:10, push 10:25; e: push 14:31.
Prints the conversations' ids as JSON ({"a": id, …}).
"""

import json
import uuid
from datetime import date, datetime, time, timedelta
from typing import Any

from django.utils import timezone

from accounts.models import User
from livechat.models import (
    BusinessHours,
    Contact,
    Conversation,
    ConversationEvent,
    CsatResponse,
    Label,
    Message,
)
from tests.analytics.day import record_event, record_send  # the same rows as the KPI tests' day

Kind = ConversationEvent.Kind
PEOPLE = [("dao", "Dao", "supervisor"), ("somchai", "Somchai", "operator"), ("nok", "Nok", "operator")]


def _at(day: date, hh: int, mm: int) -> datetime:
    return datetime.combine(day, time(hh, mm), timezone.get_current_timezone())


def _conversation(name: str, created: datetime, **fields: Any) -> Conversation:
    contact = Contact.objects.create(line_user_id=f"U{uuid.uuid4().hex}", display_name=name)
    status = Conversation.Status.CLOSED if fields.get("closed_at") else Conversation.Status.BOT
    conversation = Conversation.objects.create(contact=contact, status=status, **fields)
    Conversation.objects.filter(pk=conversation.pk).update(created_at=created)
    return conversation


def write() -> None:
    people = {}
    for username, name, role in PEOPLE:
        # The story cluster may have made the operators already (without a role of supervisor).
        person, _ = User.objects.update_or_create(
            username=username, defaults={"display_name": name, "role": role}
        )
        person.set_password(f"pw-{username}")
        person.save(update_fields=["password"])
        people[username] = person
    somchai, nok = people["somchai"], people["nok"]
    for weekday in range(7):
        BusinessHours.objects.create(weekday=weekday, opens_at=time(9), closes_at=time(18))
    today = timezone.localdate()
    d1, d2, d3, d10, d15 = (today - timedelta(days=n) for n in (1, 2, 3, 10, 15))

    a = _conversation(
        "คุณมานี",
        _at(d1, 8, 40),
        handoff_requested_at=_at(d1, 8, 50),
        claimed_at=_at(d1, 9, 10),
        first_response_at=_at(d1, 9, 12),
        closed_at=_at(d1, 9, 40),
        close_reason="resolved",
        assigned_operator=somchai,
        csat_sent_at=_at(d1, 9, 40),
    )
    record_event(a, Kind.CLAIMED, _at(d1, 9, 10), to_operator=somchai)
    CsatResponse.objects.create(conversation=a, rating=5, created_at=_at(d1, 9, 41))
    a.labels.set([Label.objects.create(name="vip"), Label.objects.create(name="billing")])
    b = _conversation(
        "Wichai",
        _at(d2, 10, 0),
        handoff_requested_at=_at(d2, 10, 5),
        claimed_at=_at(d2, 10, 8),
        first_response_at=_at(d2, 10, 10),
        closed_at=_at(d2, 10, 30),
        close_reason="resolved",
        assigned_operator=somchai,
        csat_sent_at=_at(d2, 10, 30),
    )
    record_event(b, Kind.CLAIMED, _at(d2, 10, 8), to_operator=nok)
    record_event(b, Kind.TRANSFERRED, _at(d2, 10, 15), from_operator=nok, to_operator=somchai)
    CsatResponse.objects.create(conversation=b, rating=3, created_at=_at(d2, 10, 31))
    c = _conversation(
        "Somsri",
        _at(d3, 17, 50),
        handoff_requested_at=_at(d3, 17, 55),
        closed_at=_at(d3, 18, 30),
        close_reason="customer left",
    )
    d = _conversation("คุณต้น", _at(d3, 12, 0))
    e = _conversation(
        "Earlier",
        _at(d10, 14, 0),
        handoff_requested_at=_at(d10, 14, 0),
        claimed_at=_at(d10, 14, 30),
        first_response_at=_at(d10, 14, 31),
        closed_at=_at(d10, 15, 0),
        close_reason="resolved",
        assigned_operator=somchai,
    )
    record_event(e, Kind.CLAIMED, _at(d10, 14, 30), to_operator=somchai)
    f = _conversation("Bot only", _at(d15, 11, 0), closed_at=_at(d15, 11, 5), close_reason="inactivity")
    record_send(a, 1, _at(d1, 9, 12), Message.SentVia.REPLY)
    record_send(a, 2, _at(d1, 9, 30), Message.SentVia.REPLY)
    record_send(b, 1, _at(d2, 10, 10), Message.SentVia.REPLY)
    record_send(b, 2, _at(d2, 10, 25), Message.SentVia.PUSH)
    record_send(e, 1, _at(d10, 14, 31), Message.SentVia.PUSH)
    print(json.dumps({key: row.pk for key, row in zip("abcdef", (a, b, c, d, e, f), strict=True)}))
