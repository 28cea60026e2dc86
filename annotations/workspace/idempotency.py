"""Idempotency keys on workspace writes: a retried request gets the first answer instead of being applied twice.

The page sends a fresh ``Idempotency-Key`` header with every write (static/js/requests.js). The first request
with a key claims it by inserting a ``WriteOutcome`` row in the transaction of the change and fills in the answer
before committing; a retry with the same key (another worker, another replica) waits on the row's unique index
until that transaction ends, then finds the answer. A request whose transaction rolled back (a refusal, a crash)
left no row, so its retry runs afresh. Keys are kept for ``KEEP`` per user, then pruned.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.http import HttpRequest
from django.utils import timezone

from annotations.workspace.models import WriteOutcome

HEADER = "Idempotency-Key"
KEY = re.compile(r"[A-Za-z0-9_.:-]{1,100}")
KEEP = timedelta(hours=24)
REUSED = "This Idempotency-Key was already used for another change; the page must send a fresh key per change."
ABANDONED = 410  # the page asked about the key before any write with it was saved: the key is retired
NOT_SAVED = "This change was not saved: the page checked for it after losing the server's answer. Send it again."
# Form fields that vary between a request and its retry without changing what is asked.
NOT_ASKED = {"csrfmiddlewaretoken", "body_version"}


class BadKey(Exception):
    """The header is present but not a key this server accepts (HTTP 400)."""


@dataclass(frozen=True)
class Outcome:
    """What a write answered: its status, the sentence the editor read, the span the page then selected."""

    status: int
    message: str = ""
    selected: int | None = None


def request_key(request: HttpRequest) -> str | None:
    """The request's key, None when it sent none (a form posted without JavaScript, an API client)."""
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if not KEY.fullmatch(key):
        raise BadKey(f"The {HEADER} header must be 1 to 100 letters, digits or - _ . : characters.")
    return key


def fingerprint(request: HttpRequest) -> str:
    asked = sorted((name, request.POST.getlist(name)) for name in request.POST if name not in NOT_ASKED)
    return hashlib.sha256(json.dumps([request.path, asked]).encode()).hexdigest()


# Prune this user's expired keys and claim this one in one statement; ON CONFLICT waits for a request holding the
# same key to end (its row's unique index entry) and then does nothing, so no savepoint is needed to go on after it.
_CLAIM_SQL = """
WITH pruned AS (
    DELETE FROM annotations_writeoutcome WHERE user_id = %(user)s AND created_at < %(before)s
)
INSERT INTO annotations_writeoutcome (user_id, key, request, status, message, selected, created_at)
VALUES (%(user)s, %(key)s, %(request)s, 0, '', NULL, %(now)s)
ON CONFLICT (user_id, key) DO NOTHING
RETURNING id
"""


def write_claim(*, user_id: int, key: str, request: str) -> Outcome | None:
    """Claim ``key`` in the caller's transaction: None to go ahead, or the answer already given to it.

    Raises ValidationError when the key answered a different request. Prunes this user's expired keys.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("write_claim must run inside the transaction of the write it guards")
    now = timezone.now()
    params: dict[str, Any] = {"user": user_id, "key": key, "request": request, "now": now, "before": now - KEEP}
    with connection.cursor() as cursor:
        cursor.execute(_CLAIM_SQL, params)
        if cursor.fetchone() is not None:
            return None
        first = WriteOutcome.objects.filter(user_id=user_id, key=key).first()
        if first is None:  # the row in the way had expired: the statement pruned it, so the key is free again
            cursor.execute(_CLAIM_SQL, params)
            return None
    if first.status != ABANDONED and first.request != request:
        raise ValidationError(REUSED)
    return Outcome(first.status, first.message, first.selected)


def write_settle(*, user_id: int, key: str, outcome: Outcome) -> None:
    """Store the answer to the write that claimed ``key`` (same transaction as the write)."""
    WriteOutcome.objects.filter(user_id=user_id, key=key).update(
        status=outcome.status, message=outcome.message, selected=outcome.selected
    )


def write_outcome(*, user_id: int, key: str) -> Outcome | None:
    """The answer stored for ``key``, or None if no write with it was saved (it failed, or never arrived).

    A write with this key still running is waited for (the insert below blocks on its row until it ends). When
    none was saved the key is retired, so a copy of the request arriving late is not applied behind the page's
    back: it is answered ``ABANDONED`` and the page sends the change again under a fresh key.
    """
    try:
        with transaction.atomic():
            WriteOutcome.objects.create(user_id=user_id, key=key, request="", status=ABANDONED, message=NOT_SAVED)
    except IntegrityError:
        row = WriteOutcome.objects.get(user_id=user_id, key=key)
        return None if row.status == ABANDONED else Outcome(row.status, row.message, row.selected)
    return None
