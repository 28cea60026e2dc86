"""The address a request comes from, for login throttling.

Behind a reverse proxy every request arrives from the proxy, so the proxy's header has to be read; but a
header is only trustworthy when a proxy that overwrites or appends it stands in front of the app. So the header
is read only when ``NEWSNOTES_CLIENT_IP_HEADER`` names it (e.g. ``X-Forwarded-For`` or ``X-Real-IP``), and of
a comma-separated list the last entry counts: the one the nearest proxy, ours, appended.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    header = settings.NEWSNOTES_CLIENT_IP_HEADER
    if header:
        value = request.headers.get(header, "")
        candidate = value.split(",")[-1].strip()
        try:
            return str(ipaddress.ip_address(candidate))
        except ValueError:
            pass  # no usable header: fall back to the connection's address
    return request.META.get("REMOTE_ADDR")
