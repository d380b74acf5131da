import pytest
from django.utils import translation
from django.utils.html import escape

from webapp.lessons import course


def test_built_section_redirects_to_its_lesson_anchor(client):
    response = client.get("/en/sections/30.3/")
    assert response.status_code == 302
    assert response["Location"] == "/en/lessons/batching-async/#s30-3"


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_unbuilt_section_says_what_it_will_contain(client, language, monkeypatch):
    # Every section of both chapters has its lesson now; a section still to come is one whose
    # lesson is not (yet) in the course, as a new chapter's sections will be.
    unbuilt = course.get_section("30.3")
    monkeypatch.setitem(course._LESSON_OF_SECTION, "30.3", None)
    assert not unbuilt.built
    response = client.get(f"/{language}/sections/{unbuilt.number}/")
    assert response.status_code == 200
    html = response.content.decode()
    with translation.override(language):
        assert escape(str(unbuilt.summary)) in html


def test_unknown_section_is_404(client):
    assert client.get("/en/sections/99.9/").status_code == 404
