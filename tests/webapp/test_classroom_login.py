"""The instructors' login page: Django's standard fields, attempts limited per address."""

from __future__ import annotations

import pytest

from .classroom_helpers import PASSWORD, fresh_limits, make_instructor  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_login_page_has_the_standard_fields(client, language):
    response = client.get(f"/{language}/accounts/login/")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'name="username"' in html and 'name="password"' in html and "csrfmiddlewaretoken" in html
    if language == "zh-hans":
        assert "讲师登录" in html


def test_logging_in_leads_to_my_classrooms_and_logging_out_ends_it(client):
    make_instructor("ada")
    response = client.post("/en/accounts/login/", {"username": "ada", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/en/classroom/"
    assert client.get("/en/classroom/").status_code == 200
    assert client.post("/en/accounts/logout/").status_code == 302
    assert client.get("/en/classroom/")["Location"].startswith("/en/accounts/login/")


def test_a_wrong_password_says_so(client):
    make_instructor("ada")
    response = client.post("/en/accounts/login/", {"username": "ada", "password": "nope"})
    assert response.status_code == 200 and "correct username and password" in response.content.decode()


def test_attempts_are_limited_per_address(client, settings):
    settings.CLASSROOM_LOGINS_PER_10_MIN = 3
    make_instructor("ada")
    for _ in range(3):
        assert client.post("/en/accounts/login/", {"username": "ada", "password": "guess"}).status_code == 200
    refused = client.post("/en/accounts/login/", {"username": "ada", "password": PASSWORD})
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert "Too many login attempts" in refused.content.decode()
    other = client.post("/en/accounts/login/", {"username": "ada", "password": PASSWORD},
                        REMOTE_ADDR="10.0.0.9")
    assert other.status_code == 302  # another address is not held back
