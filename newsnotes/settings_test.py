"""Settings for the test suite: the development shape (no HTTPS redirect, plain static files).

pytest-django still runs every request with DEBUG off. Production settings are checked separately by
``manage.py check --deploy`` in CI.
"""

import os

os.environ.setdefault("DEBUG", "1")

from newsnotes.settings import *  # noqa: F403
from newsnotes.settings import DATABASE_OWNER

# Every factory user sets a password; PBKDF2's 1.2M iterations per user would dominate the suite's time.
# MD5 is fine for throwaway test users and nowhere else.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# The suite creates and drops test databases, which needs the owner role (the embedded server's superuser).
# tests/hostile/test_history_roles.py proves the app role's limits with a role of its own.
if DATABASE_OWNER:
    DATABASES["default"].update(  # noqa: F405
        {key: DATABASE_OWNER[key] for key in ("USER", "PASSWORD", "HOST", "PORT") if DATABASE_OWNER.get(key)}
    )
    DATABASE_OWNER = None
