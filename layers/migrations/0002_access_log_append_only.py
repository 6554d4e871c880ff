from django.db import migrations

SQL = """
CREATE OR REPLACE FUNCTION layers_access_log_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'restricted access log is append-only';
END $$ LANGUAGE plpgsql;
CREATE TRIGGER layers_access_log_no_update BEFORE UPDATE OR DELETE ON layers_restrictedaccesslog
  FOR EACH ROW EXECUTE FUNCTION layers_access_log_append_only();
"""
REVERSE = """
DROP TRIGGER IF EXISTS layers_access_log_no_update ON layers_restrictedaccesslog;
DROP FUNCTION IF EXISTS layers_access_log_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("layers", "0001_initial")]
    operations = [migrations.RunSQL(SQL, REVERSE)]
