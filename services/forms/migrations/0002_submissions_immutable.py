from django.db import migrations

SQL = """
CREATE OR REPLACE FUNCTION forms_submission_immutable() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION 'submissions are never deleted';
  END IF;
  IF (NEW.service_id, NEW.office_id, NEW.data, NEW.parcels, NEW.document, NEW.sha256, NEW.request_sha256,
      NEW.submitted_at, NEW.idempotency_key, NEW.channel)
     IS DISTINCT FROM
     (OLD.service_id, OLD.office_id, OLD.data, OLD.parcels, OLD.document, OLD.sha256, OLD.request_sha256,
      OLD.submitted_at, OLD.idempotency_key, OLD.channel) THEN
    RAISE EXCEPTION 'a submission is immutable';
  END IF;
  RETURN NEW;  -- only user_id may change (an account removed: SET NULL)
END $$ LANGUAGE plpgsql;
CREATE TRIGGER forms_submission_immutable BEFORE UPDATE OR DELETE ON forms_submission
  FOR EACH ROW EXECUTE FUNCTION forms_submission_immutable();
CREATE OR REPLACE FUNCTION forms_attachment_immutable() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'attachments of a submission are immutable';
END $$ LANGUAGE plpgsql;
CREATE TRIGGER forms_attachment_immutable BEFORE UPDATE OR DELETE ON forms_attachment
  FOR EACH ROW EXECUTE FUNCTION forms_attachment_immutable();
"""
REVERSE = """
DROP TRIGGER IF EXISTS forms_submission_immutable ON forms_submission;
DROP FUNCTION IF EXISTS forms_submission_immutable();
DROP TRIGGER IF EXISTS forms_attachment_immutable ON forms_attachment;
DROP FUNCTION IF EXISTS forms_attachment_immutable();
"""


class Migration(migrations.Migration):
    dependencies = [("forms", "0001_initial")]
    operations = [migrations.RunSQL(SQL, REVERSE)]
