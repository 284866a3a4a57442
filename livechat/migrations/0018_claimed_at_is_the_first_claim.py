"""claimed_at is the first claim (PRODUCT §10): until now a transfer or a re-claim overwrote it.
Each conversation gets back the time of its earliest `claimed` event; backwards there is nothing
to undo (the later claims are still events)."""

from django.db import migrations
from django.db.models import Min, OuterRef, Subquery


def first_claims(apps, schema_editor):
    Conversation = apps.get_model("livechat", "Conversation")
    ConversationEvent = apps.get_model("livechat", "ConversationEvent")
    earliest = (
        ConversationEvent.objects.filter(conversation=OuterRef("pk"), kind="claimed")
        .values("conversation")
        .annotate(first=Min("created_at"))
        .values("first")
    )
    claimed = ConversationEvent.objects.filter(kind="claimed").values("conversation")
    Conversation.objects.filter(pk__in=claimed).update(claimed_at=Subquery(earliest))


class Migration(migrations.Migration):
    dependencies = [("livechat", "0017_field_labels_translated")]

    operations = [migrations.RunPython(first_claims, migrations.RunPython.noop, elidable=True)]
