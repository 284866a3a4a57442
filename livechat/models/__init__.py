"""Every model of the live-chat app, importable from `livechat.models`."""

from livechat.models.bot import AutoReply, BotSettings, HandoffKeyword
from livechat.models.canned import CannedResponse
from livechat.models.contacts import Contact
from livechat.models.conversations import Conversation, ConversationEvent, ReadMarker
from livechat.models.messages import Message
from livechat.models.webhook_events import WebhookEvent

__all__ = [
    "AutoReply",
    "BotSettings",
    "CannedResponse",
    "Contact",
    "Conversation",
    "ConversationEvent",
    "HandoffKeyword",
    "Message",
    "ReadMarker",
    "WebhookEvent",
]
