"""runserver whose autoreloader lets the real server release the embedded database on SIGTERM.

Django's reloader parent answers SIGTERM with ``sys.exit``, and ``subprocess.run`` then SIGKILLs the
child, which never gets to say it no longer holds the database: the embedded server would keep running.
Here the parent passes SIGTERM on to the child and exits with the child's exit code.
"""

import os
import signal
import sys

import psutil
from django.core.management.commands.runserver import Command as RunserverCommand
from django.utils import autoreload


def _forward_sigterm(signum, frame):
    for child in psutil.Process().children():
        child.terminate()


class Command(RunserverCommand):
    def run(self, **options):
        if options["use_reloader"] and os.environ.get(autoreload.DJANGO_AUTORELOAD_ENV) != "true":
            signal.signal(signal.SIGTERM, _forward_sigterm)
            try:
                sys.exit(autoreload.restart_with_reloader())
            except KeyboardInterrupt:
                return
        super().run(**options)
