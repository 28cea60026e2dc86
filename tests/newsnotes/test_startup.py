"""With DEBUG off and no SECRET_KEY: commands that sign nothing run; the web entry points refuse to start."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG", "DJANGO_SETTINGS_MODULE"}}
    env["DEBUG"] = "0"
    env.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_makemigrations_check_runs_without_a_secret_key():
    result = _run("manage.py", "makemigrations", "--check", "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "No changes detected" in result.stdout


def test_the_web_entry_points_refuse_to_start_without_one():
    for module in ("newsnotes.wsgi", "newsnotes.asgi"):
        result = _run("-c", f"import {module}")
        assert result.returncode != 0
        assert "The SECRET_KEY setting must not be empty" in result.stderr


WARM = """
import sys
import newsnotes.wsgi
from django.db import connections
from django.template import engines
from django.urls import get_resolver

cached = engines["django"].engine.template_loaders[0].get_template_cache
print("resolver", get_resolver()._populated)
print("views", "annotations.workspace.views" in sys.modules, "annotations.queue.views" in sys.modules)
print("templates", "annotations/article_annotate.html" in cached, "annotations/article_list.html" in cached)
print("connections", [alias for alias in connections if connections[alias].connection is not None])
"""


def test_the_wsgi_app_is_warm_before_any_request_and_holds_no_connection():
    # gunicorn forks its workers from the process that imported newsnotes.wsgi (preload_app): what that import
    # loads is shared, what it leaves to the first request each worker pays again. And no socket may be shared.
    env = {"SECRET_KEY": "startup-test-" + "x" * 40, "ALLOWED_HOSTS": "testserver"}
    result = subprocess.run(
        [sys.executable, "-c", WARM],
        cwd=ROOT,
        env={**os.environ, "DEBUG": "0", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "resolver True",
        "views True True",
        "templates True True",
        "connections []",
    ]
