"""runserver whose autoreloader lets the real server release the embedded database on SIGTERM.

Django's reloader parent answers SIGTERM with ``sys.exit``, and ``subprocess.run`` then SIGKILLs the
child, which never gets to say it no longer holds the database: the embedded server would keep running.
Here the parent passes SIGTERM on to the child and exits with the child's exit code. Ctrl-C reaches the
child from the terminal by itself; the parent ignores it, because on KeyboardInterrupt ``subprocess.run``
gives the child a quarter of a second before SIGKILL, too little to stop the database.
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


def _let_the_child_handle_it(signum, frame):
    pass


class Command(RunserverCommand):
    def run(self, **options):
        if options["use_reloader"] and os.environ.get(autoreload.DJANGO_AUTORELOAD_ENV) != "true":
            signal.signal(signal.SIGTERM, _forward_sigterm)
            # A Python-level no-op, not SIG_IGN: an ignored SIGINT would be inherited by the child.
            signal.signal(signal.SIGINT, _let_the_child_handle_it)
            sys.exit(autoreload.restart_with_reloader())
        super().run(**options)
