"""Who may do what — the one place the rules are written.

The socket, the REST API and the console pages ask here, and the console's script gets the same
rules as data (`RULES`, sent with the page) so that the buttons it shows are the ones the server
will accept.
"""

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet
from django.utils.functional import Promise, lazy
from django.utils.translation import gettext_lazy
from rest_framework.permissions import BasePermission

from accounts.models import User
from livechat.models import Conversation

if TYPE_CHECKING:  # DRF loads this module while its own views module is loading
    from rest_framework.request import Request
    from rest_framework.views import APIView

Status = Conversation.Status


class ActionRefused(Exception):
    """The action does not apply to the conversation as it is now, or not for this user.

    `message` is a (lazily) translatable text with %(name)s placeholders filled from `params`: it
    is put in words only when read, in the language active then — the request's for the REST API,
    the socket's for its `error` frames (`lazy_message` defers that to the consumer).
    """

    def __init__(self, code: str, message: str | Promise, **params: Any) -> None:
        super().__init__(message)
        self.code = code
        self.template = message
        self.params = params

    @property
    def message(self) -> str:
        text = str(self.template)
        return text % {name: str(value) for name, value in self.params.items()} if self.params else text

    @property
    def lazy_message(self) -> str | Promise:
        return lazy(lambda: self.message, str)()

    def __str__(self) -> str:
        return self.message


# The HTTP status of a refusal, wherever it is answered over HTTP (the REST API, the console's
# JSON endpoints); any other code is 400.
HTTP_STATUS_FOR_REFUSAL = {"not_found": 404, "forbidden": 403, "already_claimed": 409, "invalid_state": 409}


def http_status(refusal: ActionRefused) -> int:
    return HTTP_STATUS_FOR_REFUSAL.get(refusal.code, 400)


@dataclass(frozen=True)
class Rule:
    """What an action on a conversation needs.

    statuses: the conversation's statuses in which the action applies at all;
    in_charge_when: statuses in which only the holder (or a supervisor) may do it;
    following: the customer must still follow the account (LINE delivers nothing otherwise).
    """

    statuses: frozenset[str]
    in_charge_when: frozenset[str] = frozenset()
    following: bool = False


OPEN = frozenset({Status.BOT, Status.WAITING, Status.ACTIVE})
RULES: dict[str, Rule] = {
    "send": Rule(statuses=OPEN, in_charge_when=OPEN, following=True),
    "claim": Rule(statuses=frozenset({Status.BOT, Status.WAITING})),
    "close": Rule(statuses=OPEN, in_charge_when=frozenset({Status.ACTIVE})),
    "transfer": Rule(statuses=frozenset({Status.ACTIVE}), in_charge_when=frozenset({Status.ACTIVE})),
}


def is_team_member(user: Any) -> bool:
    """May use the console, the REST API, the socket and customers' media, and be handed a
    conversation: an active user with a team role (operator, supervisor, admin). The role
    decides — not Django's is_staff, which only opens Django admin."""
    return bool(
        user is not None and user.is_authenticated and user.is_active and user.role in User.Role.values
    )


def may_handle_personal_data(user: Any) -> bool:
    """May export or erase everything held about a customer (PDPA): supervisors and admins."""
    return is_team_member(user) and bool(user.is_supervisor)


class HandlesPersonalData(BasePermission):
    """The REST API's rule for the PDPA endpoints: `may_handle_personal_data`."""

    message = "Only supervisors and admins may export or erase a customer's data."

    def has_permission(self, request: "Request", view: "APIView") -> bool:
        return may_handle_personal_data(request.user)


def team_members() -> "QuerySet[User]":
    """Everyone `is_team_member` lets in (e.g. who may be handed a conversation)."""
    return User.objects.filter(is_active=True, role__in=User.Role.values)


def may_manage_settings(user: Any) -> bool:
    """May edit how the desk runs (business hours, holidays, service settings, capacities, SLA):
    supervisors and admins of the team."""
    return is_team_member(user) and bool(user.is_supervisor)


def may_supervise_team(user: Any) -> bool:
    """May watch the whole team (the team board, the audit log) and reassign anyone's
    conversation: supervisors and admins of the team."""
    return is_team_member(user) and bool(user.is_supervisor)


class IsTeamMember(BasePermission):
    """The REST API's rule for every endpoint: `is_team_member`."""

    message = "Only members of the support team may use the API."

    def has_permission(self, request: "Request", view: "APIView") -> bool:
        return is_team_member(request.user)


def may_manage_labels(user: Any) -> bool:
    """May create, rename, recolour and delete labels (the settings page): supervisors and admins."""
    return may_manage_settings(user)


def may_set_labels(user: User, conversation: Conversation) -> bool:
    """May put labels on a conversation: its holder, or a supervisor (any status, so a closed
    conversation can still be labelled while wrapping up)."""
    return in_charge(user, conversation)


def may_add_note(user: Any, conversation: Conversation) -> bool:
    """May write a private note on a conversation: any team member (notes are how colleagues
    help the holder), on any conversation, open or closed."""
    return is_team_member(user)


def may_edit_contact(user: User, contact_id: int) -> bool:
    """May edit a customer's notes and custom fields: a supervisor, or the operator holding one of
    the customer's open conversations."""
    return user.is_supervisor or (
        Conversation.objects.filter(contact_id=contact_id, assigned_operator=user)
        .exclude(status=Status.CLOSED)
        .exists()
    )


def holds(user: User, conversation: Conversation) -> bool:
    return conversation.assigned_operator_id == user.pk


def in_charge(user: User, conversation: Conversation) -> bool:
    """The holder, or a supervisor (who may act on any conversation)."""
    return holds(user, conversation) or user.is_supervisor


def may(user: User, action: str, conversation: Conversation) -> bool:
    rule = RULES[action]
    return (
        conversation.status in rule.statuses
        and (conversation.status not in rule.in_charge_when or in_charge(user, conversation))
        and (not rule.following or conversation.contact.is_following)
    )


def require_in_charge(user: User, conversation: Conversation, doing: str | Promise) -> None:
    if not in_charge(user, conversation):
        raise ActionRefused(
            "forbidden",
            gettext_lazy("Only the operator holding the conversation may %(doing)s."),
            doing=doing,
        )


def capabilities(user: User, conversation: Conversation) -> dict[str, bool]:
    """What the viewing operator may do with a conversation (the console shows only these)."""
    return {f"can_{action}": may(user, action, conversation) for action in RULES}


def rules_for_console() -> dict[str, dict[str, Any]]:
    """RULES as JSON, for the console's script (static/console/chat.js evaluates them)."""
    return {
        action: {
            "statuses": sorted(rule.statuses),
            "in_charge_when": sorted(rule.in_charge_when),
            "following": rule.following,
        }
        for action, rule in RULES.items()
    }
