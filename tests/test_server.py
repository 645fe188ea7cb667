"""The production server and the Makefile around it: gunicorn for real, install stamps by content.

The gunicorn test starts `gunicorn --config backprop_site/gunicorn.conf.py` as `make serve` does,
with debug off, on a temporary SQLite file and a listening socket the test opened itself (so
no port is guessed and requests simply queue until a worker takes them), then stops it.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).parent / "gunicorn"


def production_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment `make serve` asks for: a secret and hosts, debug off, a file database."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "GUNICORN_"))}
    base.pop("DATABASE_URL", None)
    return {**base, "DJANGO_SECRET_KEY": "server-test-" + "s3cr3t-" * 8,
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1", "DJANGO_SECURE_SSL_REDIRECT": "0",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
            "DJANGO_STATIC_ROOT": str(tmp_path / "static"), **extra}


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    result = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.fixture
def listening_socket():
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    sock.set_inheritable(True)
    yield sock
    sock.close()


@pytest.mark.skipif(not GUNICORN.exists(), reason="gunicorn is not installed in this environment")
def test_gunicorn_serves_the_login_page_with_security_headers_and_stops(tmp_path, listening_socket):
    """A real gunicorn with production settings answers /accounts/login/ with 200 and our headers."""
    env = production_env(tmp_path, GUNICORN_BIND=f"fd://{listening_socket.fileno()}",
                         GUNICORN_WORKERS="1")
    run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], env)
    run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"], env)
    server = subprocess.Popen([str(GUNICORN), "--config", "backprop_site/gunicorn.conf.py"],
                              cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, pass_fds=[listening_socket.fileno()],
                              start_new_session=True)
    try:
        port = listening_socket.getsockname()[1]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=60) as response:
            status, headers, body = response.status, response.headers, response.read().decode()
        server.send_signal(signal.SIGTERM)
        out, err = server.communicate(timeout=60)
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
    assert status == 200 and 'name="password"' in body
    csp = headers["Content-Security-Policy"]
    for directive in ("default-src 'self'", "script-src 'self'", "style-src 'self'",
                      "object-src 'none'", "frame-ancestors 'none'"):
        assert directive in csp, csp
    assert "unsafe-inline" not in csp
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    cookie = headers["Set-Cookie"]
    assert cookie.startswith("csrftoken=") and "Secure" in cookie  # debug is off
    assert headers["Server"].startswith("gunicorn")
    assert server.returncode == 0, err
    assert '"GET /accounts/login/ HTTP/1.1" 200' in out  # the access log goes to stdout


def test_gunicorn_config_listens_on_localhost_8000_unless_told(tmp_path):
    """Without GUNICORN_BIND the server binds 127.0.0.1:8000; GUNICORN_WORKERS sets the workers."""
    if not GUNICORN.exists():
        pytest.skip("gunicorn is not installed in this environment")
    config = [str(GUNICORN), "--config", "backprop_site/gunicorn.conf.py", "--print-config"]
    plain = run(config, production_env(tmp_path)).stdout
    assert re.search(r"^bind\s+= \[.127\.0\.0\.1:8000.\]$", plain, re.M), plain
    told = run(config, production_env(tmp_path, GUNICORN_BIND="0.0.0.0:9000",
                                      GUNICORN_WORKERS="3")).stdout
    assert re.search(r"^bind\s+= \[.0\.0\.0\.0:9000.\]$", told, re.M), told
    assert re.search(r"^workers\s+= 3$", told, re.M), told


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_serve_refuses_to_start_without_a_secret_or_hosts(tmp_path):
    """`make serve` names the missing variable before it installs or starts anything."""
    # An empty VENV and PYTHON=false: had the check passed, creating the venv would fail instead.
    command = ["make", "serve", f"VENV={tmp_path / 'venv'}", "PYTHON=false"]
    for missing in ("DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS"):
        env = production_env(tmp_path)
        del env[missing]
        result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                                timeout=60)
        assert result.returncode != 0 and f"make serve: set {missing}" in result.stderr
        assert not (tmp_path / "venv").exists()


def checksum(*names: str) -> str:
    """`cat FILES | cksum`'s first field, computed by the POSIX tool itself."""
    data = b"".join((ROOT / n).read_bytes() for n in names)
    return subprocess.run(["cksum"], input=data, capture_output=True, check=True).stdout.split()[0].decode()


def make_plan(venv: Path, target: str) -> str:
    result = subprocess.run(["make", "-n", target, f"VENV={venv}", "PYTHON=python3"], cwd=ROOT,
                            capture_output=True, text=True, timeout=60,
                            env={k: v for k, v in os.environ.items() if not k.startswith("MAKE")})
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.skipif(shutil.which("make") is None or shutil.which("cksum") is None,
                    reason="make or cksum is not installed")
def test_make_installs_only_when_a_requirements_file_really_changed(tmp_path):
    """Stamps older than the requirements files (a fresh checkout) do not make check/test/bench reinstall."""
    venv = tmp_path / "venv"
    venv.mkdir()
    base = venv / f".installed-{checksum('requirements.txt')}"
    dev = venv / f".installed-dev-{checksum('requirements.txt', 'requirements-dev.txt')}"
    base.touch()
    dev.touch()
    old = 1_000_000_000  # 2001: far older than any requirements file's date
    os.utime(base, (old, old))
    os.utime(dev, (old, old))
    for target in ("check", "test", "bench"):
        assert "pip install" not in make_plan(venv, target), target
    dev.unlink()  # as after a change to requirements-dev.txt: its checksum names a new stamp
    plan = make_plan(venv, "test")
    assert "pip install --quiet -r requirements-dev.txt" in plan
    assert "-r requirements.txt" not in plan
    base.unlink()
    assert "pip install --quiet -r requirements.txt" in make_plan(venv, "check")
