"""Projector mode: the code large, the activity and the result, no controls."""

from __future__ import annotations

import pytest

from .classroom_helpers import fresh_limits, make_instructor, make_room  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_projector_view(client, language):
    room = make_room(make_instructor("ada"))
    client.force_login(room.instructor)
    html = client.get(f"/{language}/classroom/{room.code}/projector/").content.decode()
    assert 'class="classroom role-projector projector"' in html
    assert f'data-join-code="{room.code}"' in html and 'class="segno"' in html
    assert 'id="room-activity"' in html and 'id="lab-batching-result"' in html
    assert 'id="room-ask"' not in html and 'name="room-mode"' not in html  # no controls
    assert '"role": "projector"' in html
