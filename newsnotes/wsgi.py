import gc
import os

from django.core.wsgi import get_wsgi_application

from newsnotes.startup import require_secret_key, warm_up

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "newsnotes.settings")

application = get_wsgi_application()
require_secret_key()
warm_up()

# Everything loaded so far (Django, the apps, the views, the templates) lives as long as the process: move it
# out of the cyclic garbage collector's sight so full collections stay short (they showed up as p95 spikes on
# span saves).
gc.freeze()
