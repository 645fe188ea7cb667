"""``manage.py flush`` with the append-only triggers (migration 0008) honoured on SQLite.

Flush wipes every table: the one sanctioned removal of ledger rows (pytest-django runs it after
each transactional or live_server test). PostgreSQL flushes with TRUNCATE, which fires no row
trigger. SQLite flushes with DELETE FROM, which the triggers refuse: here the append-only
triggers are dropped, the tables flushed and the triggers created again from their own stored
SQL, all in one transaction, so no other statement or connection ever runs without them and a
failed flush leaves them as they were.
"""

from django.core.management.commands import flush
from django.db import DEFAULT_DB_ALIAS, connections, transaction

TRIGGERS = "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name GLOB '*_append_only_*'"


class Command(flush.Command):
    def handle(self, **options):
        database = options.get("database") or DEFAULT_DB_ALIAS
        connection = connections[database]
        if connection.vendor != "sqlite":
            return super().handle(**options)
        with transaction.atomic(using=database):
            with connection.cursor() as cursor:
                cursor.execute(TRIGGERS)
                triggers = cursor.fetchall()
                for name, _sql in triggers:
                    cursor.execute(f'DROP TRIGGER "{name}"')
            super().handle(**options)
            with connection.cursor() as cursor:
                for _name, sql in triggers:
                    cursor.execute(sql)
