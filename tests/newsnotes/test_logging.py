"""`make run` printed every Django log line twice ("Watching for file changes" twice, issue 14 point 10)."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _log_in_a_fresh_process(level: str, debug: str) -> str:
    code = (
        "import django, logging; django.setup(); "
        f"logging.getLogger('django.utils.autoreload').{level}('Watching for file changes with StatReloader')"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "newsnotes.settings", "DEBUG": debug, "SECRET_KEY": "x" * 60}
    env.pop("LOG_LEVEL", None)
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout + done.stderr


def test_a_django_info_line_prints_once_while_developing():
    assert _log_in_a_fresh_process("info", "1").count("Watching for file changes") == 1


def test_django_warnings_print_once_in_production_and_info_not_at_all():
    assert _log_in_a_fresh_process("warning", "0").count("Watching for file changes") == 1
    assert _log_in_a_fresh_process("info", "0").count("Watching for file changes") == 0
