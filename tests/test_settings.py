"""Production settings: deploy checks clean, secrets from the environment, SQLite tuned."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    return subprocess.run([sys.executable, *args], cwd=ROOT, env={**base, **env},
                          capture_output=True, text=True, timeout=120)


def test_check_deploy_is_clean_with_production_settings():
    """`check --deploy` reports nothing with debug off and a real secret."""
    result = manage("manage.py", "check", "--deploy", "--fail-level", "WARNING",
                    DJANGO_SECRET_KEY="k" * 20 + "-a-long-random-looking-secret-0123456789abcdefXYZ",
                    DJANGO_ALLOWED_HOSTS="grader.example.org")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_server_refuses_to_start_without_a_secret():
    """With debug off and no DJANGO_SECRET_KEY, the WSGI application does not load."""
    result = manage("-c", "import backprop_site.wsgi")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_debug_is_off_unless_set():
    """DEBUG defaults to off; DJANGO_DEBUG=1 turns it on."""
    code = "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE','backprop_site.settings');" \
           "from django.conf import settings; print(settings.DEBUG)"
    assert manage("-c", code, DJANGO_SECRET_KEY="x" * 50).stdout.strip() == "False"
    assert manage("-c", code, DJANGO_DEBUG="1").stdout.strip() == "True"


@pytest.mark.django_db
def test_sqlite_uses_wal_and_a_busy_timeout():
    """The default SQLite database runs in WAL mode with a busy timeout for concurrent writers."""
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("only meaningful on SQLite")
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA busy_timeout")
        assert cursor.fetchone()[0] >= 5000
    assert connection.settings_dict["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


def test_sqlite_file_database_runs_in_wal_mode(tmp_path):
    """A SQLite file (the default database) is switched to WAL so readers never wait on a writer."""
    code = ("import os, django; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'backprop_site.settings');"
            "django.setup(); from django.db import connection; c = connection.cursor();"
            "c.execute('PRAGMA journal_mode'); print(c.fetchone()[0])")
    result = manage("-c", code, DJANGO_DEBUG="1", DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "wal"
