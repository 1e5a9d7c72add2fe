"""PostgreSQL backstop for immutability: triggers refuse UPDATE / DELETE of ledger rows and of
posted adjustment journals and their lines, whatever client writes to the database.

The models and admin refuse the same on every backend; SQLite gets no trigger because
Django's test flush deletes rows with DELETE there (PostgreSQL flushes with TRUNCATE, which
row triggers do not see).
"""

from django.db import migrations

FORWARD = r"""
CREATE OR REPLACE FUNCTION inventory_ledger_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'inventory ledger rows are immutable (% refused)', TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS inventory_ledger_immutable ON inventory_inventorytransaction;
CREATE TRIGGER inventory_ledger_immutable
    BEFORE UPDATE OR DELETE ON inventory_inventorytransaction
    FOR EACH ROW EXECUTE FUNCTION inventory_ledger_refuse_change();

CREATE OR REPLACE FUNCTION inventory_journal_refuse_change() RETURNS trigger AS $$
BEGIN
    IF OLD.status = 'posted' THEN
        RAISE EXCEPTION 'adjustment journal % is posted (% refused)', OLD.id, TG_OP
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS inventory_journal_immutable ON inventory_adjustmentjournal;
CREATE TRIGGER inventory_journal_immutable
    BEFORE UPDATE OR DELETE ON inventory_adjustmentjournal
    FOR EACH ROW EXECUTE FUNCTION inventory_journal_refuse_change();

CREATE OR REPLACE FUNCTION inventory_journal_line_refuse_change() RETURNS trigger AS $$
DECLARE
    journal bigint;
BEGIN
    IF TG_OP = 'INSERT' THEN
        journal := NEW.journal_id;
    ELSE
        journal := OLD.journal_id;
    END IF;
    IF EXISTS (
        SELECT 1 FROM inventory_adjustmentjournal j WHERE j.id = journal AND j.status = 'posted'
    ) THEN
        RAISE EXCEPTION 'adjustment journal % is posted (% of a line refused)', journal, TG_OP
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS inventory_journal_line_immutable ON inventory_adjustmentjournalline;
CREATE TRIGGER inventory_journal_line_immutable
    BEFORE INSERT OR UPDATE OR DELETE ON inventory_adjustmentjournalline
    FOR EACH ROW EXECUTE FUNCTION inventory_journal_line_refuse_change();
"""

BACKWARD = r"""
DROP TRIGGER IF EXISTS inventory_journal_line_immutable ON inventory_adjustmentjournalline;
DROP TRIGGER IF EXISTS inventory_journal_immutable ON inventory_adjustmentjournal;
DROP TRIGGER IF EXISTS inventory_ledger_immutable ON inventory_inventorytransaction;
DROP FUNCTION IF EXISTS inventory_journal_line_refuse_change();
DROP FUNCTION IF EXISTS inventory_journal_refuse_change();
DROP FUNCTION IF EXISTS inventory_ledger_refuse_change();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):

    dependencies = [
        ("inventory", "0002_ledger"),
    ]

    operations = [migrations.RunPython(forward, backward)]
