"""Embedded PostgreSQL for development: a Django database backend that starts the server on first connect.

Starting the server lazily, on the first connection rather than at import of the settings, means that
processes which never touch the database (runserver's autoreloader watcher, ``manage.py check``,
``collectstatic``) never start or hold it.
"""
