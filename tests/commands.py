"""Run a management command in a test and keep what it printed."""

from __future__ import annotations

import io

from django.core.management import call_command


def run_command(name: str, *args) -> str:
    out = io.StringIO()
    call_command(name, *map(str, args), stdout=out)
    return out.getvalue()
