from django.db import migrations

DEFAULT_KEYWORDS = ["คุยกับเจ้าหน้าที่", "ติดต่อเจ้าหน้าที่", "ขอคุยกับคน", "agent", "human", "operator"]


def add_defaults(apps, schema_editor):  # type: ignore[no-untyped-def]
    HandoffKeyword = apps.get_model("livechat", "HandoffKeyword")
    for keyword in DEFAULT_KEYWORDS:
        HandoffKeyword.objects.get_or_create(keyword=keyword)
    apps.get_model("livechat", "BotSettings").objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [("livechat", "0001_initial")]
    operations = [migrations.RunPython(add_defaults, migrations.RunPython.noop)]
