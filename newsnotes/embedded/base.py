from django.db.backends.postgresql import base

from newsnotes.embedded.server import ensure_database, ensure_server


class DatabaseWrapper(base.DatabaseWrapper):
    """PostgreSQL backend whose server is the embedded one under ``settings_dict["PGDATA"]``."""

    _database_ready: set[str] = set()

    def get_connection_params(self):
        info = ensure_server(self.settings_dict["PGDATA"])
        self.settings_dict["HOST"] = str(info.socket_dir)
        self.settings_dict["PORT"] = str(info.port)
        name = self.settings_dict["NAME"]
        if name and name not in self._database_ready and not name.startswith("test_"):
            ensure_database(info, name, self.settings_dict["USER"])
            self._database_ready.add(name)
        return super().get_connection_params()
