# DomainEvent now belongs to `outbox` (which took over its table): gone from live's state only.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("live", "0002_notification"),
        ("outbox", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="DomainEvent")],
            database_operations=[],
        ),
    ]
