"""No two live sessions of one exhibitor overlap (cancelled ones aside): a PostgreSQL
exclusion constraint (btree_gist). SQLite (the embedded demo) relies on the service check."""

from django.db import migrations

CREATE = """
CREATE EXTENSION IF NOT EXISTS btree_gist;
ALTER TABLE livestream_livesession
  ADD CONSTRAINT live_session_no_overlap
  EXCLUDE USING gist (
    exhibitor_id WITH =,
    tstzrange(scheduled_start, scheduled_end, '[)') WITH &&
  ) WHERE (status <> 'cancelled');
"""
DROP = "ALTER TABLE livestream_livesession DROP CONSTRAINT IF EXISTS live_session_no_overlap;"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("livestream", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
