# DomainEvent moved here from `live`: the table `live_domainevent` that live's first migration
# created becomes this app's (state only); 0002 renames it.

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("live", "0002_notification"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="DomainEvent",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("at", models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                        ("kind", models.CharField(max_length=48)),
                        ("app_ref", models.BigIntegerField(blank=True, db_index=True, null=True)),
                        ("organization_ref", models.BigIntegerField(blank=True, null=True)),
                        ("recipients", models.JSONField(blank=True, default=list)),
                        ("data", models.JSONField(blank=True, default=dict)),
                        ("actor", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to=settings.AUTH_USER_MODEL)),
                    ],
                    options={"ordering": ["-at", "-id"], "db_table": "live_domainevent"},
                ),
            ],
            database_operations=[],
        ),
    ]
