"""What guessing passwords gets an attacker: a few tries, then a lockout page, with no password hashed any more.

Failures count per account and per client address (django-axes); a curator or administrator unlocks in the
admin (Access attempts) or the lock lapses after NEWSNOTES_LOGIN_LOCKOUT_MINUTES. Behind a proxy the client
address comes from a header only when NEWSNOTES_CLIENT_IP_HEADER names it.
"""

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.base_user import AbstractBaseUser
from django.urls import reverse

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LOGIN = reverse("login")
LIMIT = 5
PASSWORD = "pw-for-tests"


@pytest.fixture
def hashes(monkeypatch) -> list[str]:
    """Every password hash computed: checking a password, or the dummy hash for an unknown user."""
    calls: list[str] = []
    check, set_ = AbstractBaseUser.check_password, AbstractBaseUser.set_password

    def counting_check(self, raw):
        calls.append("check")
        return check(self, raw)

    def counting_set(self, raw):
        calls.append("set")
        return set_(self, raw)

    monkeypatch.setattr(AbstractBaseUser, "check_password", counting_check)
    monkeypatch.setattr(AbstractBaseUser, "set_password", counting_set)
    return calls


def attempt(client, username, password, address="203.0.113.7", **headers):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address, headers=headers)


def test_wrong_passwords_lock_the_account_and_the_right_one_is_then_refused(client, editor, hashes):
    for _ in range(LIMIT):
        assert attempt(client, "ed", "wrong").status_code in (200, 429)
    hashed = len(hashes)
    response = attempt(client, "ed", PASSWORD)
    assert response.status_code == 429
    assert "Too many failed logins" in response.content.decode()
    assert "_auth_user_id" not in client.session
    # Refused before any hashing: a flood of guesses costs the server nothing once locked.
    for _ in range(10):
        attempt(client, "ed", "wrong")
    assert len(hashes) == hashed


def test_one_address_guessing_many_accounts_is_locked(client, hashes):
    for n in range(LIMIT):
        attempt(client, f"nobody{n}", "wrong", address="198.51.100.9")
    UserFactory(username="victim")
    hashed = len(hashes)
    assert attempt(client, "victim", PASSWORD, address="198.51.100.9").status_code == 429
    assert len(hashes) == hashed
    # Another address is not locked out of the same account.
    assert attempt(client, "victim", PASSWORD, address="198.51.100.10").status_code == 302


def test_one_account_guessed_from_many_addresses_is_locked(client, editor):
    for n in range(LIMIT):
        attempt(client, "ed", "wrong", address=f"192.0.2.{n + 1}")
    assert attempt(client, "ed", PASSWORD, address="192.0.2.200").status_code == 429


def test_a_forwarded_header_is_ignored_unless_configured(client, editor):
    # Without the setting a client cannot pick a fresh address per guess by sending X-Forwarded-For.
    for n in range(LIMIT):
        attempt(client, f"someone{n}", "wrong", address="10.0.0.1", x_forwarded_for=f"192.0.2.{n}")
    assert attempt(client, "ed", PASSWORD, address="10.0.0.1", x_forwarded_for="192.0.2.99").status_code == 429


def test_behind_a_configured_proxy_the_header_names_the_client(client, editor, settings):
    settings.NEWSNOTES_CLIENT_IP_HEADER = "X-Forwarded-For"
    for n in range(LIMIT):
        attempt(client, f"someone{n}", "wrong", address="10.0.0.1", x_forwarded_for=f"spoofed, 192.0.2.{n}")
    assert AccessAttempt.objects.filter(ip_address="192.0.2.0").exists()
    # The proxy's own address is not locked: other clients behind it still log in.
    assert attempt(client, "ed", PASSWORD, address="10.0.0.1", x_forwarded_for="192.0.2.99").status_code == 302


def test_an_administrator_unlocks_in_the_admin(client, editor, curator):
    for _ in range(LIMIT):
        attempt(client, "ed", "wrong")
    assert attempt(client, "ed", PASSWORD).status_code == 429
    admin = client.__class__()
    admin.force_login(curator)
    changelist = reverse("admin:axes_accessattempt_changelist")
    assert admin.get(changelist).status_code == 200
    ids = [str(pk) for pk in AccessAttempt.objects.values_list("pk", flat=True)]
    confirm = admin.post(changelist, {"action": "delete_selected", "_selected_action": ids, "post": "yes"})
    assert confirm.status_code == 302
    assert not AccessAttempt.objects.exists()
    assert attempt(client, "ed", PASSWORD).status_code == 302


def test_editors_change_their_password_from_the_header(client, editor):
    client.force_login(editor)
    page = client.get(reverse("annotations:article-list")).content.decode()
    assert f'href="{reverse("password-change")}"' in page
    response = client.post(
        reverse("password-change"),
        {
            "old_password": PASSWORD,
            "new_password1": "a-much-longer-secret-42",
            "new_password2": "a-much-longer-secret-42",
        },
    )
    assert response.status_code == 302 and response.url == reverse("password-done")
    editor.refresh_from_db()
    assert editor.check_password("a-much-longer-secret-42")
    wrong = client.post(
        reverse("password-change"), {"old_password": "nope", "new_password1": "x", "new_password2": "x"}
    )
    assert wrong.status_code == 200 and "Your old password was entered incorrectly" in wrong.content.decode()
