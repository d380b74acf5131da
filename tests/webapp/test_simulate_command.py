"""`manage.py simulate`: its JSON is a documented interface."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command


def run(*args) -> str:
    out = StringIO()
    call_command("simulate", *args, stdout=out)
    return out.getvalue()


def test_list_describes_every_component():
    listing = json.loads(run("--list"))
    batching = next(c for c in listing if c["name"] == "batching")
    assert batching["path"] == "/en/lessons/batching-async/"
    requests = next(p for p in batching["params"] if p["name"] == "requests")
    assert {"name", "default", "min", "max"} <= requests.keys()
    model = next(p for p in batching["params"] if p["name"] == "model")
    assert "gpt-4o" in model["choices"]
    assert "book-30.2" in batching["presets"]


def test_json_run_has_the_documented_keys():
    data = json.loads(run("batching", "--preset", "book-30.2", "--set", "requests=4", "--seed", "2"))
    assert {"component", "params", "seed", "metrics", "series", "notes"} <= data.keys()
    assert data["component"] == "batching"
    assert data["params"]["requests"] == 4
    assert data["seed"] == 2
    assert set(data["metrics"]["strategies"]) == {"sequential", "abatch", "gather"}


def test_same_seed_same_json():
    assert run("batching", "--seed", "5") == run("batching", "--seed", "5")


def test_table_and_csv_formats():
    table = run("batching", "--format", "table")
    assert "strategies.sequential.wall_s" in table
    csv_text = run("batching", "--format", "csv")
    assert csv_text.splitlines()[0] == "metric,value"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("nope",), "unknown component 'nope'"),
        (("batching", "--set", "requests=1000"), "requests: must be at most 100"),
        (("batching", "--set", "colour=red"), "colour: unknown parameter"),
        (("batching", "--set", "requests"), "--set expects KEY=VALUE"),
        (("batching", "--preset", "book-1"), "preset: unknown preset “book-1”"),
    ],
)
def test_bad_input_is_a_one_line_error(args, message):
    with pytest.raises(CommandError, match=message.replace("(", r"\(")):
        run(*args)
