""""Start a classroom" on every component's lesson page, for a logged-in instructor only."""

from __future__ import annotations

import pytest

from simulations import registry
from webapp.classroom.models import Room
from webapp.lessons import course

from .classroom_helpers import fresh_limits, make_instructor, make_user  # noqa: F401

pytestmark = pytest.mark.django_db

LESSONS_WITH_LABS = [lesson.slug for lesson in course.all_lessons() if lesson.component]
LABEL = {"en": "Start a classroom", "zh-hans": "开始课堂"}


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize("slug", LESSONS_WITH_LABS)
def test_every_lesson_with_a_lab_offers_it_to_an_instructor(client, slug, language):
    client.force_login(make_instructor())
    html = client.get(f"/{language}/lessons/{slug}/").content.decode()
    assert LABEL[language] in html and f'name="lesson" value="{slug}"' in html


@pytest.mark.parametrize("name", sorted(registry.COMPONENTS))
def test_every_labs_own_page_offers_it_too(client, name):
    client.force_login(make_instructor())
    assert LABEL["en"] in client.get(f"/en/lab/{name}/").content.decode()


def test_learners_and_plain_accounts_do_not_see_it(client):
    slug = LESSONS_WITH_LABS[0]
    assert LABEL["en"] not in client.get(f"/en/lessons/{slug}/").content.decode()
    client.force_login(make_user("dan"))
    assert LABEL["en"] not in client.get(f"/en/lessons/{slug}/").content.decode()


def test_starting_opens_the_instructors_view_at_the_lessons_values(client):
    user = make_instructor()
    client.force_login(user)
    response = client.post("/en/classroom/start/", {"lesson": "caching-basics", "component": "caching-comparison"})
    room = Room.objects.get(instructor=user)
    assert response.status_code == 302 and response["Location"] == f"/en/classroom/{room.code}/"
    spec = registry.get("caching-comparison").spec
    assert room.params == spec.parse({}, "book-30.1") and room.preset == "book-30.1"
    assert room.lesson == "caching-basics" and room.mode == "instructor"


def test_a_lab_without_a_lesson_name_starts_at_its_home_lesson(client):
    client.force_login(make_instructor())
    client.post("/en/classroom/start/", {"component": "batching"})
    assert Room.objects.get().lesson == course.lesson_for_component("batching").slug


def test_starting_needs_an_instructor_and_a_post(client):
    assert client.post("/en/classroom/start/", {"lesson": "batching-async"}).status_code == 302  # to login
    client.force_login(make_user("dan"))
    assert client.post("/en/classroom/start/", {"lesson": "batching-async"}).status_code == 302
    client.force_login(make_instructor())
    assert client.get("/en/classroom/start/").status_code == 405
    assert client.post("/en/classroom/start/", {"lesson": "no-such"}).status_code == 400
    assert not Room.objects.exists()
