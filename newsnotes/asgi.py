import os

from django.core.asgi import get_asgi_application

from newsnotes.startup import require_secret_key, warm_up

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "newsnotes.settings")

application = get_asgi_application()
require_secret_key()
warm_up()
