"""Every model of the live-chat app, importable from `livechat.models`."""

from livechat.models.annotations import Label, Note
from livechat.models.bot import AutoReply, BotSettings, HandoffKeyword
from livechat.models.canned import CannedResponse
from livechat.models.contacts import Contact
from livechat.models.conversations import Conversation, ConversationEvent, ReadMarker
from livechat.models.csat import CsatResponse
from livechat.models.messages import Message
from livechat.models.policies import BusinessHours, Holiday, ServiceSettings, SlaAlert, SlaPolicy
from livechat.models.webhook_events import WebhookEvent

__all__ = [
    "AutoReply",
    "BotSettings",
    "BusinessHours",
    "CannedResponse",
    "Contact",
    "Conversation",
    "ConversationEvent",
    "CsatResponse",
    "HandoffKeyword",
    "Holiday",
    "Label",
    "Message",
    "Note",
    "ReadMarker",
    "ServiceSettings",
    "SlaAlert",
    "SlaPolicy",
    "WebhookEvent",
]
