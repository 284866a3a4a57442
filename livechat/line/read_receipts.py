"""Telling LINE the customer's messages were read (the "Read" under them on the customer's phone).

`actions.mark_read` marks the rows read as its claim (of two operators reading at once, one
sends the token); when LINE does not take the token — an outage, a rate limit — the rows are
marked unread again here, so the next `mark_read` from the console sends it again. (Before, the
receipt was lost for good whenever LINE had a bad moment.) LINE's "Chat" mode must be on for the
channel, or LINE refuses every token.
"""

import logging

from livechat.line import messaging_api
from livechat.models import Message

logger = logging.getLogger(__name__)


def send(conversation_id: int, token: str) -> bool:
    """Mark everything up to the token's message as read on LINE; True once LINE took it."""
    try:
        messaging_api.mark_as_read(token)
    except messaging_api.LineError as exc:
        if not exc.is_retryable:
            # Refused for good (an unknown or expired token): asking again would be refused again.
            logger.warning("mark-as-read for conversation %s refused: %s", conversation_id, exc)
            return False
        logger.info("mark-as-read for conversation %s not taken yet: %s", conversation_id, exc)
        up_to = (
            Message.objects.filter(conversation_id=conversation_id, mark_as_read_token=token)
            .values_list("seq", flat=True)
            .first()
        )
        if up_to is not None:
            Message.objects.filter(
                conversation_id=conversation_id, direction=Message.Direction.IN, seq__lte=up_to
            ).exclude(mark_as_read_token="").update(marked_read_at=None)
        return False
    return True
