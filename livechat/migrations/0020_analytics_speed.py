from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("livechat", "0019_analytics_indexes")]

    operations = [
        migrations.AddIndex(
            model_name="conversation",
            index=models.Index(
                condition=models.Q(("handoff_requested_at__isnull", False)),
                fields=["contact", "created_at"],
                name="conversation_rehandoff_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="conversationevent",
            index=models.Index(
                condition=models.Q(("kind__in", ["transferred", "returned"])),
                fields=["conversation"],
                name="event_transfer_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="conversationevent",
            index=models.Index(
                condition=models.Q(("kind", "claimed")),
                fields=["conversation", "created_at", "id"],
                name="event_claim_idx",
            ),
        ),
    ]
