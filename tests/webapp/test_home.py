import pytest
from django.utils import translation

from webapp.lessons import course


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_course_map_links_every_section(client, language):
    response = client.get(f"/{language}/")
    assert response.status_code == 200
    html = response.content.decode()
    for section in course.all_sections():
        assert f'href="/{language}/sections/{section.number}/"' in html
        with translation.override(language):
            assert str(section.title) in html


def test_language_switch_points_to_the_same_page_in_the_other_language(client):
    html = client.get("/en/").content.decode()
    assert 'href="/zh-hans/"' in html
    assert '<html lang="en">' in html
    assert '<html lang="zh-hans">' in client.get("/zh-hans/").content.decode()


def test_root_redirects_to_a_language(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] in {"/en/", "/zh-hans/"}
