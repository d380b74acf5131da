"""Chinese pages read as Chinese: no stray spaces, one word for "the chapter".

Every lesson of the course map is checked, so a lesson added later is too.
"""

from __future__ import annotations

import re

import polib
import pytest
from django.conf import settings

from webapp.lessons.course import LESSONS

HAN = "\u3400-\u4dbf\u4e00-\u9fff"
# Punctuation after which a space is always a mistake ("”" is left out: “A” / “B” is fine).
PUNCTUATION = "，。：；、！？）」』"
# Whitespace that a browser renders as a space: after Chinese punctuation, or a line
# break between two Chinese characters (browsers do not drop it).
STRAY = re.compile(f"[{PUNCTUATION}][ \\t\\n]+[^\\s<]|[{HAN}]\\n\\s*[{HAN}]")
OTHER_WORDS_FOR_THE_CHAPTER = ("原书", "书中")


def _prose(html: str) -> str:
    """The page without its code blocks, scripts and sample inputs, where spacing follows other rules."""
    return re.sub(r"<(pre|script|style|textarea)\b.*?</\1>", "", html, flags=re.S)


@pytest.mark.parametrize("slug", [lesson.slug for lesson in LESSONS])
def test_a_chinese_lesson_has_no_stray_spaces_and_says_benzhang(client, slug):
    html = _prose(client.get(f"/zh-hans/lessons/{slug}/").content.decode())
    stray = [html[max(0, m.start() - 12):m.end() + 4] for m in STRAY.finditer(html)]
    assert not stray, f"stray spaces: {stray[:5]}"
    for word in OTHER_WORDS_FOR_THE_CHAPTER:
        assert word not in html, f"“{word}” where the course says 本章"


def test_the_catalogue_has_no_stray_spaces_after_chinese_punctuation():
    po = polib.pofile(str(settings.BASE_DIR / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"))
    stray = [e.msgstr for e in po if e.msgstr and re.search(f"[{PUNCTUATION}][ \\t]+\\S", e.msgstr)]
    assert not stray, stray[:5]
    chapter = [e.msgstr for e in po if any(w in e.msgstr for w in OTHER_WORDS_FOR_THE_CHAPTER)]
    assert not chapter, chapter[:5]
