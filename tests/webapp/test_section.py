import pytest
from django.utils import translation
from django.utils.html import escape

from webapp.lessons import course


def test_built_section_redirects_to_its_lesson_anchor(client):
    response = client.get("/en/sections/30.3/")
    assert response.status_code == 302
    assert response["Location"] == "/en/lessons/batching-async/#s30-3"


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_unbuilt_section_says_what_it_will_contain(client, language):
    unbuilt = next(s for s in course.all_sections() if not s.built)
    response = client.get(f"/{language}/sections/{unbuilt.number}/")
    assert response.status_code == 200
    html = response.content.decode()
    with translation.override(language):
        assert escape(str(unbuilt.summary)) in html


def test_unknown_section_is_404(client):
    assert client.get("/en/sections/99.9/").status_code == 404
