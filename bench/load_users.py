"""Locust editors for bench/load.py and bench/faults.py (run by them with ``locust -f``; not alone).

Each editor works like a person at the workspace: open the queue, open an article, label a word, relabel it,
write a note on it, label another and delete it, label a third and undo that. Every write goes out the way
static/js/requests.js sends it (htmx fragment, CSRF header, a fresh ``Idempotency-Key``, and, as workspace.js
adds, the ``body_version`` of the drawing of the text the editor holds); when its answer is lost
(5xx, connection cut) the editor asks ``/writes/`` with the same key, as the page does, and counts the change as
acknowledged only if the server says it was saved. What each editor was told is stored is appended to the
ledger (JSON lines) that the driving script checks against the database afterwards.

Environment: ``LOAD_SETUP`` (JSON written by bench/load.py: sessions, labels, article bodies), ``LOAD_LEDGER``
(output), ``LOAD_THINK`` ("2,5": seconds between actions; "0,0" for the closed loop).
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import uuid
from http.cookiejar import Cookie

from locust import FastHttpUser, between, constant, task

SETUP = json.loads(open(os.environ["LOAD_SETUP"]).read())  # noqa: SIM115 (read once at import)
LEDGER = open(os.environ["LOAD_LEDGER"], "a", buffering=1)  # noqa: SIM115 (one line per acknowledged write)
THINK = tuple(float(x) for x in os.environ.get("LOAD_THINK", "2,5").split(","))
SESSIONS = itertools.cycle(SETUP["sessions"][int(os.environ.get("LOAD_FIRST_EDITOR", "0")) :])
CSRF = re.compile(r'"x-csrftoken": "([^"]+)"')
SELECTED = re.compile(r'data-selected="(\d+)"')
ARTICLE = re.compile(r"/articles/(\d+)/annotate/")
# The drawing of the text the page holds (workspace.js sends it with every post, so the answer redraws only the
# stretch that changed when the page holds the drawing just before the change).
VERSION = re.compile(r'id="ws-body-patch"[^>]*data-version="([0-9.]+)"')
# Capitalised words: names, as editors label them. Not one followed by a combining mark (an "e" + U+0301 spelt in
# two code points): it ends inside a character, and the server rightly refuses such a span (422).
WORD = re.compile(r"\b[A-Z][a-z]{3,}\b(?![\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f])")
# A human-readable sentence in an error page (not a traceback): what the faults bench checks 5xx answers for.
TRACEBACK = ("Traceback (most recent call last)", 'File "/')


def _cookie(name: str, value: str, host: str) -> Cookie:
    return Cookie(0, name, value, None, False, host, False, False, "/", True, False, None, True, None, None, {})


class Editor(FastHttpUser):
    """geventhttpclient, not requests: about a third of the client's CPU per request, which on a 2-core machine is
    CPU the server does not get (bench/load.py prints the client's share)."""

    wait_time = constant(0) if THINK == (0.0, 0.0) else between(*THINK)
    # Redirects are followed by hand (open_article): a FastHttpUser response names the URL asked, not the final one.

    def on_start(self) -> None:
        self.me = next(SESSIONS)
        host = re.sub(r"^https?://|:\d+$", "", self.host or "")
        self.client.cookiejar.set_cookie(_cookie("sessionid", self.me["sessionid"], host))
        self.rng = random.Random(self.me["user"])
        self.used: set[tuple[int, int]] = set()
        self.csrf = ""
        self.version = ""
        self.article = 0

    def record(self, **entry) -> None:
        LEDGER.write(json.dumps({"user": self.me["user"], "article": self.article, **entry}) + "\n")

    # -- reading ---------------------------------------------------------------------------------------------
    def open_article(self) -> bool:
        with self.client.get("/", name="queue", catch_response=True) as response:
            if response.status_code != 200:
                self.fault(response)
                return False
            ids = [int(pk) for pk in ARTICLE.findall(response.text)]
        bodies = SETUP["bodies"]
        pk = self.rng.choice([pk for pk in ids if str(pk) in bodies] or [int(pk) for pk in bodies])
        path = f"/articles/{pk}/annotate/"
        for _ in range(3):  # a full slot list sends the editor on to the next article (a redirect, followed here)
            with self.client.get(path, name="page", catch_response=True, allow_redirects=False) as response:
                if response.status_code in (301, 302) and response.headers.get("Location"):
                    response.success()
                    path = response.headers["Location"]
                    continue
                if response.status_code != 200:
                    self.fault(response)
                    return False
                found = ARTICLE.search(path)
                self.article = int(found.group(1)) if found else pk
                token = CSRF.search(response.text or "")
                if token is None or str(self.article) not in bodies:
                    response.failure("no CSRF token or unknown article")
                    return False
                self.csrf = token.group(1)
                self.hold(response.text)
                return True
        return False

    def hold(self, html: str) -> None:
        """Keep the body version an answer names, as the page keeps the ``#ws-body-patch`` it swaps in."""
        found = VERSION.search(html)
        if found:
            self.version = found.group(1)

    def fault(self, response) -> None:
        """A failed answer: a 5xx must be a sentence for a person, not a traceback or an empty page."""
        body = response.text or ""
        if response.status_code >= 500 and (any(t in body for t in TRACEBACK) or len(body.strip()) < 20):
            self.record(kind="unclear-error", status=response.status_code, body=body[:200])
        elif response.status_code == 0:  # no answer at all (connection cut): Locust's stand-in response
            self.record(kind="lost-answer", error=str(response.error)[:200])
        elif response.status_code < 500:
            self.record(kind="refused", status=response.status_code, body=" ".join(body.split())[:300])
        response.failure(f"HTTP {response.status_code}")

    # -- writing ---------------------------------------------------------------------------------------------
    def write(self, name: str, path: str, data: dict) -> tuple[bool, int | None]:
        """POST as the page does; (saved, selected span). A lost answer is settled through /writes/."""
        key = uuid.uuid4().hex
        headers = {"HX-Request": "true", "X-CSRFToken": self.csrf, "Idempotency-Key": key}
        url = f"/articles/{self.article}/{path}"
        data = {**data, "body_version": self.version}
        try:
            with self.client.post(url, data=data, headers=headers, name=name, catch_response=True) as response:
                self.hold(response.text or "")
                if response.status_code == 200:
                    selected = SELECTED.search(response.text)
                    return True, int(selected.group(1)) if selected else None
                self.fault(response)
                if response.status_code < 500 and response.status_code != 0:
                    return False, None
        except Exception as error:  # a cut connection: settle it like the page does
            self.record(kind="lost-answer", error=type(error).__name__)
        return self.settle(key)

    def settle(self, key: str) -> tuple[bool, int | None]:
        """Ask the server whether the write with ``key`` was saved, until it answers (it may be restarting)."""
        headers = {"HX-Request": "true", "Idempotency-Key": key}
        for _ in range(30):
            with self.client.get(
                f"/articles/{self.article}/writes/", headers=headers, name="write check", catch_response=True
            ) as response:
                if response.status_code == 200:
                    saved = response.headers.get("Write-Saved") == "yes"
                    selected = SELECTED.search(response.text)
                    self.record(kind="settled", key=key, saved=saved)
                    return saved, int(selected.group(1)) if selected and saved else None
                self.fault(response)
            self._sleep(1)
        self.record(kind="unsettled", key=key)
        return False, None

    def _sleep(self, seconds: float) -> None:
        import gevent

        gevent.sleep(seconds)

    def pick(self) -> tuple[int, int, str] | None:
        body = SETUP["bodies"][str(self.article)]
        words = [m for m in WORD.finditer(body) if (self.article, m.start()) not in self.used]
        if not words:
            return None
        word = self.rng.choice(words)
        self.used.add((self.article, word.start()))
        return word.start(), word.end(), word.group()

    def create(self, label: int) -> int | None:
        place = self.pick()
        if place is None:
            return None
        start, end, text = place
        data = {"label": label, "start": start, "end": end, "text": text}
        saved, span = self.write("create", "spans/", data)
        if saved and span is not None:
            self.record(kind="span", span=span, label=label, start=start, end=end, note="")
            return span
        return None

    @task
    def session(self) -> None:
        """One article's worth of work, a think time between each action."""
        if not self.open_article():
            return
        person, org = SETUP["labels"]["person"], SETUP["labels"]["org"]
        steps = [
            lambda: self.create(person),
            lambda: self.relabel(org),
            lambda: self.note(),
            lambda: self.create_and_delete(person),
            lambda: self.create_and_undo(org),
        ]
        self.current: int | None = None
        for step in steps:
            self.wait()
            result = step()
            if step is steps[0]:
                self.current = result

    def relabel(self, label: int) -> None:
        if self.current is None:
            return
        saved, _ = self.write("relabel", "spans/relabel/", {"span": self.current, "label": label})
        if saved:
            self.record(kind="relabel", span=self.current, label=label)

    def note(self) -> None:
        if self.current is None:
            return
        text = f"checked by {self.me['user']} {uuid.uuid4().hex[:8]}"
        saved, _ = self.write("note", "spans/details/", {"span": self.current, "note": text})
        if saved:
            self.record(kind="note", span=self.current, note=text)

    def create_and_delete(self, label: int) -> None:
        span = self.create(label)
        if span is None:
            return
        self.wait()
        saved, _ = self.write("delete", "spans/delete/", {"span": span})
        if saved:
            self.record(kind="delete", span=span)

    def create_and_undo(self, label: int) -> None:
        span = self.create(label)
        if span is None:
            return
        self.wait()
        saved, _ = self.write("undo", "undo/", {})
        if saved:
            self.record(kind="undo", span=span)
