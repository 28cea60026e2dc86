"""Browser fixtures: Debian's Chromium driven by Playwright's sync API against pytest-django's live_server.

These override pytest-playwright's fixtures of the same names so no downloaded browser is ever needed.
Mark browser tests ``pytest.mark.django_db(transaction=True, serialized_rollback=True)``: live_server needs real
commits, and the serialized rollback puts back what the data migrations made (labels, role groups) after each
test's flush, for the tests that run later.
"""

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore

# Playwright's sync API runs an event loop in the main thread; Django's ORM refuses to run beside one unless told
# that the test (not an async view) is the only user of the connection.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def playwright(django_db_setup, django_db_blocker):
    """pytest-playwright's fixture, plus what serialized_rollback needs once Playwright runs.

    Starting Playwright's event loop gives the main thread new Django connection objects (connections are
    asgiref locals). The test database's serialized contents, from which ``serialized_rollback`` restores the
    migrations' data (groups, labels) after another transactional test flushed it, live on the old objects.
    """
    from django.db import connections
    from playwright.sync_api import sync_playwright

    contents = {alias: getattr(connections[alias], "_test_serialized_contents", None) for alias in connections}
    with sync_playwright() as started:
        for alias, serialized in contents.items():
            if serialized is not None:
                connections[alias]._test_serialized_contents = serialized
        yield started


@pytest.fixture(scope="session")
def browser(playwright):
    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian's Chromium is not installed at /usr/bin/chromium (run `make browser`).")
    chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    yield chromium
    chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def demo_users(db):
    """The demo desk (``manage.py load_demo``): its users by name."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    call_command("load_demo", verbosity=0)
    return {user.username: user for user in get_user_model().objects.all()}


@pytest.fixture
def login():
    """``login(page, live_server, user)``: a session cookie for ``user`` in the page's browser context."""

    def _login(page, live_server, user) -> None:
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "newsnotes.permissions.UserWithPermissionsBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.save()
        page.context.add_cookies(
            [{"name": settings.SESSION_COOKIE_NAME, "value": session.session_key, "url": live_server.url}]
        )

    return _login


# axe-core from npm, installed once into the git-ignored .axe/ (never a CDN). Injected as an init script: the
# DevTools protocol is not bound by the page's CSP, so the strict policy stays on while axe runs.
AXE_VERSION = "4.11.0"
AXE_DIR = Path(__file__).resolve().parents[2] / ".axe"
AXE_JS = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"


@pytest.fixture(scope="session")
def axe_source():
    if not AXE_JS.exists() or f'"version": "{AXE_VERSION}"' not in (AXE_JS.parent / "package.json").read_text():
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail("axe-core needs npm to install it into .axe/ (apt-get install npm).")
        subprocess.run(
            [
                npm,
                "install",
                "--prefix",
                str(AXE_DIR),
                "--no-audit",
                "--no-fund",
                "--no-save",
                f"axe-core@{AXE_VERSION}",
            ],
            check=True,
            capture_output=True,
        )
    return AXE_JS.read_text()


@pytest.fixture
def axe(page, axe_source):
    """``axe(page)`` asserts that axe-core finds no violation (WCAG 2.x A/AA and best practice) in the page now."""
    page.context.add_init_script(script=axe_source)

    def check(checked_page=None, *, where: str = "") -> None:
        target = checked_page or page
        assert target.evaluate("typeof window.axe !== 'undefined'"), "ask for the axe fixture before opening the page"
        violations = target.evaluate(
            """async () => {
                const result = await window.axe.run(document, { resultTypes: ["violations"] });
                return result.violations.map((v) => `${v.id} (${v.impact}): ${v.help} — ` +
                    v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", "));
            }"""
        )
        assert violations == [], f"axe-core at {where or target.url}: " + "\n".join(violations)

    return check
