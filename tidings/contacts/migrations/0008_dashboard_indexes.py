from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("contacts", "0007_list_views_and_sort_indexes"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="contact",
            index=models.Index(fields=["workspace_id", "created_at"], name="contacts_c_created_idx"),
        ),
    ]
