# The organisers' figures count rooms by creation time (today, per day over the edition).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("negotiations", "0001_initial"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="negotiation",
            index=models.Index(fields=["created_at"], name="nego_created_idx"),
        ),
        migrations.AddIndex(
            model_name="purchaseintent",
            index=models.Index(fields=["created_at"], name="nego_intent_created_idx"),
        ),
    ]
