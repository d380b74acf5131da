"""Env helpers fail loudly on values they cannot read."""

import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from webapp.settings import env_bool, env_int, env_list


def test_env_bool_reads_the_usual_spellings(monkeypatch):
    monkeypatch.setenv("FLAG", "Yes")
    assert env_bool("FLAG", False) is True
    monkeypatch.setenv("FLAG", "off")
    assert env_bool("FLAG", True) is False
    monkeypatch.delenv("FLAG")
    assert env_bool("FLAG", True) is True


@pytest.mark.parametrize(("helper", "value"), [(env_bool, "maybe"), (env_int, "ten"), (env_int, "-1")])
def test_unreadable_values_stop_the_start_up(monkeypatch, helper, value):
    monkeypatch.setenv("SETTING", value)
    with pytest.raises(ImproperlyConfigured, match="SETTING"):
        helper("SETTING", 0) if helper is env_int else helper("SETTING", False)


def test_env_list_splits_on_commas(monkeypatch):
    monkeypatch.setenv("HOSTS", " a.example, b.example ,")
    assert env_list("HOSTS", "") == ["a.example", "b.example"]


def test_production_without_a_secret_key_refuses_to_start(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "DJANGO_DEBUG": "false", "VAR_DIR": str(tmp_path), "REDIS_URL": "redis://127.0.0.1:1/0"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set when DJANGO_DEBUG=false" in result.stderr
