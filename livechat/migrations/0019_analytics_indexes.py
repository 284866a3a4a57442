from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("livechat", "0018_claimed_at_is_the_first_claim")]

    operations = [
        migrations.AddIndex(
            model_name="conversation",
            index=models.Index(fields=["created_at"], name="conversation_created_idx"),
        ),
        migrations.AddIndex(
            model_name="message",
            index=models.Index(
                condition=models.Q(("direction", "out"), ("sent_at__isnull", False)),
                fields=["sent_at", "sent_via"],
                name="message_sent_out_idx",
            ),
        ),
    ]
