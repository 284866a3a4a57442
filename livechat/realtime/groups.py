"""The channel-layer groups a frame can be published to, and the event that carries it.

Every operator socket is in OPERATORS, a supervisor's or admin's also in SUPERVISORS, a socket
that joined a conversation's room is in `conversation(id)`, and all tabs of one operator share
`operator(id)`.
"""

OPERATORS = "operators"
SUPERVISORS = "supervisors"
# The channel-layer message type every consumer handles (→ LiveChatConsumer.server_event).
SERVER_EVENT = "server.event"


def conversation(conversation_id: int) -> str:
    return f"conversation.{conversation_id}"


def operator(operator_id: int) -> str:
    return f"operator.{operator_id}"
