"""History cannot be changed or deleted: on PostgreSQL a trigger refuses UPDATE and DELETE on the
history tables, whatever connects (ASVS 16.4.2). TRUNCATE, used only by test teardown, is not a
row operation and is unaffected. On SQLite (development) the model's save/delete guards suffice."""

from django.db import migrations

TABLES = (
    "submissions_submissionevent",
    "submissions_datachange",
    "submissions_fieldcomment",
    "submissions_extension",
)

FORWARD = """
CREATE OR REPLACE FUNCTION gigacity_history_is_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'history records cannot be changed or deleted (table %)', TG_TABLE_NAME;
END;
$$ LANGUAGE plpgsql;
""" + "".join(
    f"CREATE TRIGGER {t}_append_only BEFORE UPDATE OR DELETE ON {t} "
    f"FOR EACH ROW EXECUTE FUNCTION gigacity_history_is_append_only();\n"
    for t in TABLES
)

BACKWARD = "".join(f"DROP TRIGGER IF EXISTS {t}_append_only ON {t};\n" for t in TABLES) + (
    "DROP FUNCTION IF EXISTS gigacity_history_is_append_only();"
)


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)  # verbatim: the % is PL/pgSQL, not a placeholder


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("submissions", "0001_initial")]
    operations = [migrations.RunPython(forward, backward)]
