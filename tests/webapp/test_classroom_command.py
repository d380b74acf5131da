"""``manage.py create_instructor NAME``: prompts for a password, or takes --password for scripts."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.django_db


def test_a_scripted_instructor_can_log_in_and_host():
    out = io.StringIO()
    call_command("create_instructor", "grace", password="hopper-1906!", stdout=out)
    assert "created" in out.getvalue()
    user = authenticate(username="grace", password="hopper-1906!")
    assert user is not None and user.has_perm("classroom.host_room")


def test_it_prompts_twice_when_no_password_is_given(monkeypatch):
    answers = iter(["prompted-pass-1", "prompted-pass-1"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    call_command("create_instructor", "lin", stdout=io.StringIO())
    assert authenticate(username="lin", password="prompted-pass-1") is not None


def test_prompted_passwords_must_match(monkeypatch):
    answers = iter(["prompted-pass-1", "prompted-pass-2"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    with pytest.raises(CommandError, match="differ"):
        call_command("create_instructor", "lin", stdout=io.StringIO())
    assert not get_user_model().objects.filter(username="lin").exists()


def test_a_weak_password_is_refused():
    with pytest.raises(CommandError):
        call_command("create_instructor", "lin", password="short", stdout=io.StringIO())


def test_running_it_again_sets_a_new_password():
    call_command("create_instructor", "grace", password="hopper-1906!", stdout=io.StringIO())
    out = io.StringIO()
    call_command("create_instructor", "grace", password="cobol-1959!!", stdout=out)
    assert "updated" in out.getvalue()
    assert authenticate(username="grace", password="cobol-1959!!") is not None
    assert get_user_model().objects.filter(username="grace").count() == 1
