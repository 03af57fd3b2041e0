# Replies to an email (decision 0040): the delivery's first reply time and the aggregate count of replies.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("emails", "0007_send_lanes"),
    ]

    operations = [
        migrations.AddField(
            model_name="delivery",
            name="replied_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name="emailcount",
            name="kind",
            field=models.CharField(
                choices=[("opened", "Opens"), ("clicked", "Clicks"), ("replied", "Replies")], max_length=8
            ),
        ),
    ]
