"""Loaded by pytest before Django's settings (`-p tests.testenv` in pytest.ini).

The settings read the environment at import, and pytest-django imports them before any
conftest runs, so the test environment is set here: debug off as in production, a throwaway
secret, and plain HTTP hosts for the test client and the live server.
"""
import os

os.environ.setdefault("DJANGO_SECRET_KEY", "test-secret-key-not-for-production-" + "x" * 20)
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("DJANGO_TASKS_IMMEDIATE", "1")  # tasks run as they are enqueued
