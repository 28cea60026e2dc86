"""Settings for the test suite: the development shape (no HTTPS redirect, plain static files).

pytest-django still runs every request with DEBUG off. Production settings are checked separately by
``manage.py check --deploy`` in CI.
"""

import os

os.environ.setdefault("DEBUG", "1")

from newsnotes.settings import *  # noqa: F403

# Every factory user sets a password; PBKDF2's 1.2M iterations per user would dominate the suite's time.
# MD5 is fine for throwaway test users and nowhere else.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
