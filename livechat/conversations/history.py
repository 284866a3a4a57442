"""Reading a conversation's messages by seq: the latest page, and everything after a cursor."""

from livechat.models import Message


def latest(conversation_id: int, *, before_seq: int | None = None, limit: int = 50) -> list[Message]:
    """The latest `limit` messages (before `before_seq`), oldest first."""
    qs = Message.objects.select_related("operator").filter(conversation_id=conversation_id)
    if before_seq is not None:
        qs = qs.filter(seq__lt=before_seq)
    return list(reversed(qs.order_by("-seq")[:limit]))


def after(conversation_id: int, after_seq: int, limit: int = 200) -> list[Message]:
    """Messages after `after_seq`, in order: what a reconnecting client missed."""
    return list(
        Message.objects.select_related("operator")
        .filter(conversation_id=conversation_id, seq__gt=after_seq)
        .order_by("seq")[:limit]
    )
