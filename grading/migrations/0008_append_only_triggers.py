"""The database refuses to change or delete append-only records (issue 16), as the models do.

Tables: grading_grading (the ledger), grading_reviewrequest, grading_reviewreply,
grading_extension, grading_variant: every UPDATE and DELETE of a row is refused.
grading_submission: a draft may be updated (an autosave; its submit, draft -> submitted, once)
and deleted; a row whose stored state is not 'draft' is refused both (the trigger's WHEN clause
reads OLD.state, so a submitted attempt cannot go back to a draft either).

SQLite: BEFORE UPDATE / BEFORE DELETE triggers that RAISE(ABORT, ...): an IntegrityError.
PostgreSQL: one plpgsql function raising SQLSTATE 23001 (restrict_violation, an
IntegrityError), fired BEFORE UPDATE OR DELETE ... FOR EACH ROW. Other vendors: nothing (the
models still refuse).

What is not refused, on purpose:
- INSERT: appending is the point.
- Wiping the whole database. ``manage.py flush`` (what pytest-django's transactional tests and
  live_server tests run at teardown) deletes every row of every table. On PostgreSQL it
  TRUNCATEs, which fires no row trigger. On SQLite it runs DELETE FROM, which the triggers
  refuse, so grading/management/commands/flush.py drops the append-only triggers, flushes and
  creates them again from their own stored SQL, in one transaction: the guard is never off for
  any other statement or connection, and a failed flush leaves them in place. There is no
  session flag or bypass switch that ordinary code could set.
- DDL: whoever may drop a trigger may drop the table. The triggers stop mistakes and code that
  goes around the ORM, not the database's owner.

Caveat for later migrations on SQLite: Django alters most columns by remaking the table (create a
copy, copy rows, drop the old table), and dropping the table drops its triggers. A migration
that remakes one of these tables must create its trigger again (tests/test_append_only.py fails
when a trigger is missing).

Reversible: backwards drops the triggers (and the function).
"""

from django.db import migrations

LOCKED = ["grading_grading", "grading_reviewrequest", "grading_reviewreply", "grading_extension",
          "grading_variant"]
SUBMISSIONS = "grading_submission"
MESSAGE = "%s rows are append-only: {op} refused; append a new record instead"


def _sqlite_triggers():
    def trigger(table, op, when=""):
        message = (MESSAGE % table).format(op=op)
        return (f"CREATE TRIGGER {table}_append_only_{op.lower()} BEFORE {op} ON {table} "
                f"FOR EACH ROW {when}BEGIN SELECT RAISE(ABORT, '{message}'); END")

    for table in LOCKED:
        yield f"{table}_append_only_update", trigger(table, "UPDATE")
        yield f"{table}_append_only_delete", trigger(table, "DELETE")
    submitted = "WHEN OLD.state <> 'draft' "
    yield f"{SUBMISSIONS}_append_only_update", trigger(SUBMISSIONS, "UPDATE", submitted)
    yield f"{SUBMISSIONS}_append_only_delete", trigger(SUBMISSIONS, "DELETE", submitted)


PG_FUNCTION = """
CREATE FUNCTION grading_append_only_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% rows are append-only: % refused; append a new record instead',
        TG_TABLE_NAME, TG_OP USING ERRCODE = 'restrict_violation';
END;
$$
"""


def _pg_triggers():
    for table in LOCKED:
        yield (f"{table}_append_only", f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE "
                                       f"ON {table} FOR EACH ROW EXECUTE FUNCTION grading_append_only_refuse()")
    yield (f"{SUBMISSIONS}_append_only",
           f"CREATE TRIGGER {SUBMISSIONS}_append_only BEFORE UPDATE OR DELETE ON {SUBMISSIONS} "
           f"FOR EACH ROW WHEN (OLD.state <> 'draft') EXECUTE FUNCTION grading_append_only_refuse()")


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        for _name, sql in _sqlite_triggers():
            schema_editor.execute(sql)
    elif vendor == "postgresql":
        schema_editor.execute(PG_FUNCTION, params=None)  # its % are plpgsql's, not placeholders
        for _name, sql in _pg_triggers():
            schema_editor.execute(sql)


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        for name, _sql in _sqlite_triggers():
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}")
    elif vendor == "postgresql":
        for (name, _sql), table in zip(_pg_triggers(), [*LOCKED, SUBMISSIONS]):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        schema_editor.execute("DROP FUNCTION IF EXISTS grading_append_only_refuse()")


class Migration(migrations.Migration):

    dependencies = [
        ('grading', '0007_append_only_on_delete'),
    ]

    operations = [
        migrations.RunPython(forwards, backwards, elidable=False),
    ]
