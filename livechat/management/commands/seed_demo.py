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
from livechat.models import (
    AutoReply,
    BotSettings,
    CannedResponse,
    Contact,
    Conversation,
    ConversationEvent,
    Message,
)

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


# What the bot answers by itself: (keywords, reply). Thai keywords match anywhere in a message,
# Latin ones as whole words; the longest keyword found wins (livechat.conversations.bot).
DEMO_AUTO_REPLIES = [
    (
        ["เวลาทำการ", "เปิดกี่โมง", "ปิดกี่โมง", "เวลาเปิด", "opening hours"],
        "ร้านเปิดทุกวัน 9:00–18:00 น. ค่ะ (หยุดวันนักขัตฤกษ์) ทักแชทได้ตลอด "
        "เจ้าหน้าที่จะตอบในเวลาทำการค่ะ\n"
        "We are open every day, 9:00–18:00 (closed on public holidays). Write any time: "
        "our team answers during opening hours.",
    ),
    (
        ["ค่าส่ง", "จัดส่ง", "ส่งของ", "กี่วันถึง", "shipping", "delivery"],
        "จัดส่งทั่วประเทศ 1–3 วันทำการค่ะ ค่าส่ง 50 บาท ซื้อครบ 500 บาทส่งฟรี "
        "สั่งก่อน 14:00 น. ส่งออกวันเดียวกันค่ะ\n"
        "We ship nationwide in 1–3 business days: 50 THB, free over 500 THB. "
        "Orders before 14:00 leave the same day.",
    ),
    (
        ["เลขพัสดุ", "ติดตามพัสดุ", "tracking"],
        "แจ้งเลขคำสั่งซื้อในแชทนี้ได้เลยค่ะ เจ้าหน้าที่จะส่งเลขพัสดุให้นะคะ\n"
        "Send us your order number here and our team will send you the tracking number.",
    ),
    (
        ["ชำระเงิน", "จ่ายเงิน", "โอนเงิน", "พร้อมเพย์", "ปลายทาง", "payment"],
        "ชำระได้ทางโอนเงินผ่านธนาคาร พร้อมเพย์ บัตรเครดิต หรือเก็บเงินปลายทาง (COD) ค่ะ "
        "โอนแล้วส่งสลิปในแชทนี้ได้เลยค่ะ\n"
        "You can pay by bank transfer, PromptPay, credit card or cash on delivery. "
        "After a transfer, send the slip in this chat.",
    ),
    (
        ["คืนสินค้า", "เปลี่ยนสินค้า", "ส่งคืน", "คืนเงิน", "return", "refund"],
        "คืนหรือเปลี่ยนสินค้าได้ภายใน 7 วันหลังได้รับ สินค้าต้องอยู่ในสภาพเดิมพร้อมป้ายค่ะ "
        'พิมพ์ "คุยกับเจ้าหน้าที่" เพื่อเริ่มเรื่องคืนสินค้าได้เลยค่ะ\n'
        "Returns and exchanges within 7 days of delivery, unused with tags. "
        'Type "agent" to start a return with our team.',
    ),
    (
        ["โปรโมชั่น", "โปรโมชัน", "ส่วนลด", "promotion", "discount"],
        "เดือนนี้ลด 10% ทุกชิ้นเมื่อซื้อครบ 1,000 บาท ใช้โค้ด LINE10 ได้เลยค่ะ 🎉\n"
        "This month: 10% off orders over 1,000 THB with the code LINE10.",
    ),
    (
        ["สวัสดี", "hello", "hi"],
        "สวัสดีค่ะ 😊 ถามบอทได้เลย เช่น เวลาทำการ ค่าส่ง การชำระเงิน การคืนสินค้า "
        'หรือกด "คุยกับเจ้าหน้าที่" เพื่อคุยกับทีมงานค่ะ\n'
        "Hello! Ask me about opening hours, shipping, payment or returns, "
        "or tap “คุยกับเจ้าหน้าที่” to talk to our team.",
    ),
]

# Buttons under the welcome and the fallback; each sends its text, which an auto-reply answers.
DEMO_QUICK_REPLIES = [
    {"label": "เวลาทำการ", "text": "เวลาทำการ"},
    {"label": "ค่าส่ง", "text": "ค่าส่ง"},
    {"label": "ชำระเงิน", "text": "ชำระเงิน"},
    {"label": "คืนสินค้า", "text": "คืนสินค้า"},
]

# The operators' "/" picker: (shortcut, title, text).
DEMO_CANNED_RESPONSES = [
    ("hello", "ทักทาย / Greeting", "สวัสดีค่ะ คุณ{customer_name} ยินดีให้บริการค่ะ มีอะไรให้ช่วยไหมคะ 😊"),
    ("wait", "ขอเวลาตรวจสอบ / Checking", "รบกวนรอสักครู่นะคะ เจ้าหน้าที่กำลังตรวจสอบให้ค่ะ 🙏"),
    ("order-no", "ขอเลขคำสั่งซื้อ / Order number", "รบกวนแจ้งเลขคำสั่งซื้อ หรือเบอร์โทรที่ใช้สั่งซื้อด้วยค่ะ"),
    ("address", "ขอที่อยู่ / Address", "รบกวนแจ้งชื่อ ที่อยู่ และเบอร์โทรสำหรับจัดส่งด้วยนะคะ"),
    (
        "shipped",
        "จัดส่งแล้ว / Shipped",
        "สินค้าจัดส่งแล้วค่ะ จะได้รับภายใน 1–3 วันทำการ เลขพัสดุจะแจ้งในแชทนี้นะคะ",
    ),
    (
        "payment",
        "ช่องทางชำระเงิน / Payment",
        "ชำระได้ทางโอนเงิน พร้อมเพย์ บัตรเครดิต หรือเก็บเงินปลายทางค่ะ โอนแล้วส่งสลิปในแชทได้เลยค่ะ",
    ),
    ("slip-ok", "ได้รับสลิปแล้ว / Payment received", "ได้รับยอดโอนเรียบร้อยแล้วค่ะ ขอบคุณมากค่ะ 🙏"),
    (
        "return",
        "การคืนสินค้า / Returns",
        "คืนหรือเปลี่ยนสินค้าได้ภายใน 7 วันค่ะ รบกวนถ่ายรูปสินค้าและแจ้งเลขคำสั่งซื้อด้วยนะคะ",
    ),
    ("sorry", "ขออภัย / Apology", "ขออภัยในความไม่สะดวกค่ะ ทางร้านจะรีบแก้ไขให้โดยเร็วที่สุดค่ะ 🙏"),
    ("thanks", "ขอบคุณ / Thank you", "ขอบคุณที่ใช้บริการค่ะ หากมีข้อสงสัยเพิ่มเติม ทักมาได้ตลอดเลยนะคะ 😊"),
]


class Command(BaseCommand):
    help = "Create a demo supervisor, two operators and a few demo conversations (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            team = self.create_team()
            created = self.create_customers(operator=team["operator1"])
            self.teach_the_bot()
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

    def teach_the_bot(self) -> None:
        """Auto-replies, quick reply buttons and canned responses, so the bot and the "/" picker
        work at once. What is there already (an edit in admin) is left as it is."""
        for keywords, reply in DEMO_AUTO_REPLIES:
            for keyword in keywords:
                AutoReply.objects.get_or_create(keyword=keyword, defaults={"reply_text": reply})
        settings, _ = BotSettings.objects.get_or_create(pk=1)
        if not settings.quick_replies:
            settings.quick_replies = DEMO_QUICK_REPLIES
            settings.save(update_fields=["quick_replies"])
        for shortcut, title, text in DEMO_CANNED_RESPONSES:
            CannedResponse.objects.get_or_create(
                owner=None, shortcut=shortcut, defaults={"title": title, "text": text}
            )

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
