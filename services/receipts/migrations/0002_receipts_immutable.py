from django.db import migrations

SQL = """
CREATE OR REPLACE FUNCTION receipts_receipt_immutable() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'receipts are immutable';
END $$ LANGUAGE plpgsql;
CREATE TRIGGER receipts_receipt_immutable BEFORE UPDATE OR DELETE ON receipts_receipt
  FOR EACH ROW EXECUTE FUNCTION receipts_receipt_immutable();
"""
REVERSE = """
DROP TRIGGER IF EXISTS receipts_receipt_immutable ON receipts_receipt;
DROP FUNCTION IF EXISTS receipts_receipt_immutable();
"""


class Migration(migrations.Migration):
    dependencies = [("receipts", "0001_initial")]
    operations = [migrations.RunSQL(SQL, REVERSE)]
