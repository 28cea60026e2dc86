"""PostgreSQL through PgBouncer in transaction pooling (``DATABASE_URL=...?pgbouncer=1``; docs/scaling.md).

Django's ``.iterator()`` reads through a named server-side cursor, declared WITH HOLD in autocommit so that it
outlives the statement that opened it. Behind transaction pooling the next FETCH may reach another server
connection, where that cursor does not exist. Django's answer, ``DISABLE_SERVER_SIDE_CURSORS``, gives up
server-side cursors everywhere, also inside a transaction, where PgBouncer keeps one server connection until
COMMIT and a cursor without hold is safe. This backend keeps them there (the multi-query exports run in one
read-only transaction and stream that way) and reads client-side only outside a transaction.
"""

from django.db.backends.postgresql import base


class DatabaseWrapper(base.DatabaseWrapper):
    def chunked_cursor(self):
        if not self.get_autocommit():
            return super().chunked_cursor()  # a cursor without hold: it ends with the transaction
        return self.cursor()
