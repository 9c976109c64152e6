"""Every page in Azerbaijani and Turkish: no English left (issue 4, item 10)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from flask import Flask
from flask.testing import FlaskClient

from emanet.bootstrap import Runtime
from tests.broker.oauth_helpers import sign_in
from tests.pages import anonymous_pages, signed_in_pages
from tests.tour import build_tour

# Words that are the same in every language: the product, the language names, and data.
ALWAYS_THE_SAME = {"Emanet", "English", "Azərbaycanca", "Türkçe"}
ENGLISH_WORD = re.compile(r"[A-Za-z]{3,}")
# Currency choices come from Babel's locale data ("EUR · Euro" is Turkish as well).
FROM_LOCALE_DATA = re.compile(r"^[A-Z]{3} · ")


class VisibleText(HTMLParser):
    """Collect the text a person reads, leaving out code, data shown as-is and language names."""

    SKIP = frozenset({"script", "style", "pre", "code", "title"})

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self._skipping: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("input", "meta", "br", "img", "link", "hr"):
            return
        marks = dict(attrs)
        # Only the language picker's own links name a language of their own (`lang` on <a>).
        own_language = tag == "a" and "lang" in marks
        if tag in self.SKIP or own_language or "translate" in marks or self._skipping:
            self._skipping.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self._skipping and tag == self._skipping[-1]:
            self._skipping.pop()

    def handle_data(self, data: str) -> None:
        text = " ".join(data.split())
        if text and not self._skipping:
            self.texts.append(text)


def visible(html: str) -> set[str]:
    parser = VisibleText()
    parser.feed(html)
    return set(parser.texts)


def english_left(page_en: str, page_other: str, data: set[str]) -> list[str]:
    same = visible(page_en) & visible(page_other)
    return sorted(
        text
        for text in same
        if ENGLISH_WORD.search(text)
        and text not in ALWAYS_THE_SAME
        and not FROM_LOCALE_DATA.match(text)
        and not any(value and value in text for value in data)
    )


@pytest.mark.parametrize("lang", ["az", "tr"])
def test_every_page_is_translated(
    app: Flask, client: FlaskClient, runtime: Runtime, lang: str
) -> None:
    tour = build_tour(runtime.vault)
    data = tour.data_shown()
    problems: dict[str, list[str]] = {}
    for endpoint, path in anonymous_pages(app).items():
        left = english_left(
            client.get(path + "?lang=en").get_data(as_text=True),
            client.get(f"{path}?lang={lang}").get_data(as_text=True),
            data,
        )
        if left:
            problems[endpoint] = left
    sign_in(client, tour.email)
    pages = signed_in_pages(app, runtime.vault, tour)
    assert len(pages) >= 12
    for endpoint, path in pages.items():
        joiner = "&" if "?" in path else "?"
        en = client.get(f"{path}{joiner}lang=en", follow_redirects=True)
        other = client.get(f"{path}{joiner}lang={lang}", follow_redirects=True)
        assert en.status_code == other.status_code == 200, (endpoint, en.status_code)
        left = english_left(en.get_data(as_text=True), other.get_data(as_text=True), data)
        if left:
            problems[endpoint] = left
    assert problems == {}


def test_the_check_finds_english_left_on_a_page() -> None:
    page = '<html lang="{}"><body><a lang="az">Azərbaycanca</a><p>Sign out</p></body></html>'
    en, az = page.format("en"), page.format("az")
    assert english_left(en, az, set()) == ["Sign out"]
    assert english_left(en, az.replace("Sign out", "Çıxış"), set()) == []
