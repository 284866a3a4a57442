"""`manage.py seed_demo` — demo team and customers for a first look. Safe to run repeatedly."""

from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from livechat.conversations.store import append_message, start_conversation
from livechat.models import Contact, Conversation, ConversationEvent, Message

DEMO_TEAM = [
    # username, password, display name, role
    ("supervisor", "demo-supervisor-pass", "Malee (Supervisor)", "supervisor"),
    ("operator1", "demo-operator1-pass", "Somchai", "operator"),
    ("operator2", "demo-operator2-pass", "Nok", "operator"),
]

DEMO_CUSTOMERS = [
    # LINE user id, name, status, messages
    ("U" + "d" * 31 + "1", "คุณแพรวา", "waiting", ["สวัสดีค่ะ", "สินค้ายังไม่ได้รับเลยค่ะ", "คุยกับเจ้าหน้าที่"]),
    ("U" + "d" * 31 + "2", "Krit", "active", ["Hi, I need to change my address", "agent"]),
    ("U" + "d" * 31 + "3", "น้องมิว", "bot", ["โปรโมชั่นเดือนนี้มีอะไรบ้างคะ 😊"]),
    ("U" + "d" * 31 + "4", "Somsri", "closed", ["ขอบคุณมากค่ะ 🙏"]),
]


class Command(BaseCommand):
    help = "Create a demo supervisor, two operators and a few demo conversations (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            team = self.create_team()
            created = self.create_customers(operator=team["operator1"])
        self.stdout.write(self.style.SUCCESS("Demo logins (console /console/, admin /admin/):"))
        for username, password, name, role in DEMO_TEAM:
            self.stdout.write(f"  {role:<10} {username:<11} / {password}   ({name})")
        if created:
            self.stdout.write(f"Created {created} demo conversation(s).")

    def create_team(self) -> dict[str, Any]:
        User = get_user_model()
        view_perms = Permission.objects.filter(
            content_type__app_label="livechat", codename__startswith="view_"
        )
        team = {}
        for username, password, name, role in DEMO_TEAM:
            user, created = User.objects.get_or_create(
                username=username, defaults={"display_name": name, "role": role, "is_staff": True}
            )
            if created:
                user.set_password(password)
                user.is_superuser = role == "supervisor"
                user.save()
                user.user_permissions.set(view_perms)
            team[username] = user
        return team

    def create_customers(self, operator: User) -> int:
        created_count = 0
        now = timezone.now()
        for line_user_id, name, status, texts in DEMO_CUSTOMERS:
            contact, created = Contact.objects.get_or_create(
                line_user_id=line_user_id,
                defaults={"display_name": name, "profile_fetched_at": now, "followed_at": now},
            )
            if not created:
                continue
            conversation, _ = start_conversation(contact)
            for text in texts:
                append_message(
                    conversation,
                    direction=Message.Direction.IN,
                    sender_kind=Message.SenderKind.CUSTOMER,
                    type=Message.Type.TEXT,
                    text=text,
                    status=Message.Status.RECEIVED,
                )
            self.move_to(conversation, status, operator, now)
            created_count += 1
        return created_count

    def move_to(self, conversation: Conversation, status: str, operator: User, now: datetime) -> None:
        """Walk the demo conversation through the states a real one would pass."""
        steps = {
            "waiting": ["waiting"],
            "active": ["waiting", "active"],
            "closed": ["waiting", "active", "closed"],
        }
        previous = Conversation.Status.BOT
        for step in steps.get(status, []):
            if step == "waiting":
                conversation.handoff_requested_at = now - timedelta(minutes=4)
                kind, actor = ConversationEvent.Kind.HANDOFF, None
            elif step == "active":
                conversation.assigned_operator = operator
                conversation.claimed_at = now - timedelta(minutes=2)
                kind, actor = ConversationEvent.Kind.CLAIMED, operator
                append_message(
                    conversation,
                    direction=Message.Direction.OUT,
                    sender_kind=Message.SenderKind.OPERATOR,
                    operator=operator,
                    type=Message.Type.TEXT,
                    text="สวัสดีค่ะ ยินดีให้บริการค่ะ",
                    payload={"type": "text", "text": "สวัสดีค่ะ ยินดีให้บริการค่ะ"},
                    status=Message.Status.SENT,
                    sent_at=now,
                )
                conversation.first_response_at = now - timedelta(minutes=1)
            else:
                conversation.closed_at = now
                conversation.close_reason = "resolved"
                kind, actor = ConversationEvent.Kind.CLOSED, operator
            conversation.status = step
            ConversationEvent.objects.create(
                conversation=conversation,
                kind=kind,
                actor=actor,
                actor_kind=ConversationEvent.ActorKind.OPERATOR
                if actor
                else ConversationEvent.ActorKind.CUSTOMER,
                from_status=previous,
                to_status=step,
                to_operator=operator if step == "active" else None,
            )
            previous = Conversation.Status(step)
        conversation.save()
