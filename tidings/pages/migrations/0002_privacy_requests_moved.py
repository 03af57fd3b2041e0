"""The preference centre's requests now live in tidings.subject_requests (copied by its migration 0002)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("pages", "0001_initial"),
        ("subject_requests", "0002_requests_of_the_preference_centre"),
    ]

    operations = [migrations.DeleteModel(name="PrivacyRequest")]
