"""A fee document is issued once and never changed or deleted (as receipts): the fee is stored when
computed, never recomputed; a wrong one is cancelled (its payment) and another issued."""

from django.db import migrations

SQL = """
CREATE OR REPLACE FUNCTION payments_feedocument_immutable() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION 'fee documents are never deleted';
  END IF;
  IF (to_jsonb(NEW) - 'applicant_user_id' - 'issued_by_id') IS DISTINCT FROM
     (to_jsonb(OLD) - 'applicant_user_id' - 'issued_by_id') THEN
    RAISE EXCEPTION 'a fee document is immutable';
  END IF;
  RETURN NEW;  -- only the accounts may change (an account removed: SET NULL)
END $$ LANGUAGE plpgsql;
CREATE TRIGGER payments_feedocument_immutable BEFORE UPDATE OR DELETE ON payments_feedocument
  FOR EACH ROW EXECUTE FUNCTION payments_feedocument_immutable();
"""
REVERSE = """
DROP TRIGGER IF EXISTS payments_feedocument_immutable ON payments_feedocument;
DROP FUNCTION IF EXISTS payments_feedocument_immutable();
"""


class Migration(migrations.Migration):
    dependencies = [("payments", "0001_initial")]
    operations = [migrations.RunSQL(SQL, REVERSE)]
