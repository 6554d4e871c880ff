"""An issued document is never changed or deleted; a correction is a new document naming the one it
replaces. Only the accounts may change (an account removed: SET NULL)."""

from django.db import migrations

SQL = """
CREATE OR REPLACE FUNCTION documents_issueddocument_immutable() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION 'issued documents are never deleted';
  END IF;
  IF (to_jsonb(NEW) - 'owner_id' - 'issued_by_id') IS DISTINCT FROM (to_jsonb(OLD) - 'owner_id' - 'issued_by_id') THEN
    RAISE EXCEPTION 'an issued document is immutable';
  END IF;
  RETURN NEW;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER documents_issueddocument_immutable BEFORE UPDATE OR DELETE ON documents_issueddocument
  FOR EACH ROW EXECUTE FUNCTION documents_issueddocument_immutable();
"""
REVERSE = """
DROP TRIGGER IF EXISTS documents_issueddocument_immutable ON documents_issueddocument;
DROP FUNCTION IF EXISTS documents_issueddocument_immutable();
"""


class Migration(migrations.Migration):
    dependencies = [("documents", "0001_initial")]
    operations = [migrations.RunSQL(SQL, REVERSE)]
