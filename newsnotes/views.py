import sys

from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.templatetags.static import static
from django.views.decorators.http import require_GET
from django.views.generic import RedirectView


@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness for load balancers and compose: the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("ok", content_type="text/plain")


class FaviconRedirect(RedirectView):
    """Browsers ask for /favicon.ico whatever the page links: send them to the real icon.

    The icon's url is looked up per request, not when the urls load: with the manifest storage of production the
    lookup needs ``collectstatic`` to have run, which ``manage.py check`` does not need.
    """

    permanent = True

    def get_redirect_url(self, *args, **kwargs) -> str:
        return static("favicon.svg")


DATABASE_DOWN = (
    "NewsNotes cannot reach its database right now (it may be restarting). Nothing from this request was saved "
    "unless the page says so; try again in a few seconds."
)
SERVER_ERROR = "Something went wrong on the server and this request was not completed. Try again in a moment."
ERROR_PAGE = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>'
    "<body><h1>{title}</h1><p>{sentence}</p></body></html>"
)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: a database that is down or restarting is a 503 with Retry-After, anything else a 500; both a
    sentence for a person, drawn without templates or queries (the database may be what failed)."""
    from django.db import InterfaceError, OperationalError

    if isinstance(sys.exc_info()[1], (OperationalError, InterfaceError)):
        page = ERROR_PAGE.format(title="Database unavailable", sentence=DATABASE_DOWN)
        response = HttpResponse(page, status=503)
        response["Retry-After"] = "5"
        return response
    return HttpResponse(ERROR_PAGE.format(title="Server error", sentence=SERVER_ERROR), status=500)
