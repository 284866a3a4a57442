"""One known day of conversations, written straight into the rows (PRODUCT §10: "a test may write
those rows directly"), so that every figure can be computed by hand.

The day is Monday 2026-11-02 in Asia/Bangkok. Local times:

| | created | handoff | first claim (who) | first response | closed | else |
|---|---|---|---|---|---|---|
| bot_only | 08:00 | — | — | — | 08:10 | |
| abandoned | 09:00 | 09:01 | — | — | 09:21 | |
| transferred | 10:00 | 10:02 | 10:05 (Somchai) | 10:06 | 10:50 | → Nok 10:20; CSAT sent, 5 |
| first_visit | 11:00 | 11:00 | 11:04 (Nok) | 11:05 | 11:30 | CSAT sent, 2 |
| came_back | 13:00 | 13:01 | 13:03 (Somchai) | 13:04 | 13:20 | first_visit's contact; CSAT sent, no answer |
| waiting | 17:00 | 17:01 | — | — | — | still waiting |
| out_of_hours | 19:00 | 19:00 | Tue 09:10 (Nok) | Tue 09:12 | Tue 09:40 | |
| midnight | 23:50 | 23:52 | 23:55 (Somchai) | 23:58 | Tue 00:20 | returned 00:00, Nok claims 00:02 |
| tuesday | Tue 00:05 | — | — | — | — | the next day: outside a Monday-only period |

Outbound sends (sent_at): reply 10:06, reply 13:04, push 23:58 (Monday); push Tue 09:12.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from accounts.models import User
from livechat.models import Contact, Conversation, ConversationEvent, CsatResponse, Message

BANGKOK = ZoneInfo("Asia/Bangkok")
MONDAY = date(2026, 11, 2)
TUESDAY = MONDAY + timedelta(days=1)
Status = Conversation.Status
Kind = ConversationEvent.Kind


def mon(hh: int, mm: int) -> datetime:
    return datetime.combine(MONDAY, time(hh, mm), BANGKOK)


def tue(hh: int, mm: int) -> datetime:
    return datetime.combine(TUESDAY, time(hh, mm), BANGKOK)


@dataclass
class Day:
    somchai: User
    nok: User
    conversations: dict[str, Conversation]


def _contact(name: str) -> Contact:
    return Contact.objects.create(line_user_id=f"U{name:0>32}"[:33], display_name=name)


def _conversation(contact: Contact, created: datetime, **fields: Any) -> Conversation:
    status = Status.CLOSED if fields.get("closed_at") else fields.pop("status", Status.BOT)
    conversation = Conversation.objects.create(contact=contact, status=status, **fields)
    Conversation.objects.filter(pk=conversation.pk).update(created_at=created)
    conversation.created_at = created
    return conversation


def record_event(conversation: Conversation, kind: str, at: datetime, **fields: Any) -> None:
    event = ConversationEvent.objects.create(
        conversation=conversation, kind=kind, actor_kind="operator", **fields
    )
    ConversationEvent.objects.filter(pk=event.pk).update(created_at=at)


def record_send(conversation: Conversation, seq: int, at: datetime, via: str) -> None:
    Message.objects.create(
        conversation=conversation,
        seq=seq,
        direction=Message.Direction.OUT,
        sender_kind=Message.SenderKind.OPERATOR,
        text="ok",
        status=Message.Status.SENT,
        sent_at=at,
        sent_via=via,
    )


def build() -> Day:
    somchai = User.objects.create_user(
        username="somchai", password="pw", display_name="Somchai", role="operator"
    )
    nok = User.objects.create_user(username="nok", password="pw", display_name="Nok", role="operator")
    c: dict[str, Conversation] = {}
    c["bot_only"] = _conversation(_contact("bot"), mon(8, 0), closed_at=mon(8, 10), close_reason="inactivity")
    c["abandoned"] = _conversation(
        _contact("abandoned"), mon(9, 0), handoff_requested_at=mon(9, 1), closed_at=mon(9, 21)
    )
    c["transferred"] = _conversation(
        _contact('ลูกค้า, "โอน"'),
        mon(10, 0),
        handoff_requested_at=mon(10, 2),
        claimed_at=mon(10, 5),
        first_response_at=mon(10, 6),
        closed_at=mon(10, 50),
        close_reason="resolved",
        assigned_operator=nok,
        csat_sent_at=mon(10, 50),
    )
    record_event(c["transferred"], Kind.CLAIMED, mon(10, 5), to_operator=somchai)
    record_event(c["transferred"], Kind.TRANSFERRED, mon(10, 20), from_operator=somchai, to_operator=nok)
    CsatResponse.objects.create(conversation=c["transferred"], rating=5, created_at=mon(10, 52))
    regular = _contact("regular")
    c["first_visit"] = _conversation(
        regular,
        mon(11, 0),
        handoff_requested_at=mon(11, 0),
        claimed_at=mon(11, 4),
        first_response_at=mon(11, 5),
        closed_at=mon(11, 30),
        assigned_operator=nok,
        csat_sent_at=mon(11, 30),
    )
    record_event(c["first_visit"], Kind.CLAIMED, mon(11, 4), to_operator=nok)
    CsatResponse.objects.create(conversation=c["first_visit"], rating=2, created_at=mon(11, 31))
    c["came_back"] = _conversation(
        regular,
        mon(13, 0),
        handoff_requested_at=mon(13, 1),
        claimed_at=mon(13, 3),
        first_response_at=mon(13, 4),
        closed_at=mon(13, 20),
        assigned_operator=somchai,
        csat_sent_at=mon(13, 20),
    )
    record_event(c["came_back"], Kind.CLAIMED, mon(13, 3), to_operator=somchai)
    c["waiting"] = _conversation(
        _contact("waiting"), mon(17, 0), handoff_requested_at=mon(17, 1), status=Status.WAITING
    )
    c["out_of_hours"] = _conversation(
        _contact("night"),
        mon(19, 0),
        handoff_requested_at=mon(19, 0),
        claimed_at=tue(9, 10),
        first_response_at=tue(9, 12),
        closed_at=tue(9, 40),
        assigned_operator=nok,
    )
    record_event(c["out_of_hours"], Kind.CLAIMED, tue(9, 10), to_operator=nok)
    c["midnight"] = _conversation(
        _contact("midnight"),
        mon(23, 50),
        handoff_requested_at=mon(23, 52),
        claimed_at=mon(23, 55),
        first_response_at=mon(23, 58),
        closed_at=tue(0, 20),
        assigned_operator=nok,
    )
    record_event(c["midnight"], Kind.CLAIMED, mon(23, 55), to_operator=somchai)
    record_event(c["midnight"], Kind.RETURNED, tue(0, 0), from_operator=somchai)
    record_event(c["midnight"], Kind.CLAIMED, tue(0, 2), to_operator=nok)
    c["tuesday"] = _conversation(_contact("tuesday"), tue(0, 5))
    record_send(c["transferred"], 1, mon(10, 6), Message.SentVia.REPLY)
    record_send(c["came_back"], 1, mon(13, 4), Message.SentVia.REPLY)
    record_send(c["midnight"], 1, mon(23, 58), Message.SentVia.PUSH)
    record_send(c["out_of_hours"], 1, tue(9, 12), Message.SentVia.PUSH)
    return Day(somchai=somchai, nok=nok, conversations=c)
