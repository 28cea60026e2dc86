"""Settings for the test suite: the development shape (no HTTPS redirect, plain static files).

pytest-django still runs every request with DEBUG off. Production settings are checked separately by
``manage.py check --deploy`` in CI.
"""

import os

os.environ.setdefault("DEBUG", "1")

from newsnotes.settings import *  # noqa: F403
