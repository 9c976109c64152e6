"""Languages: English, Azerbaijani and Turkish, chosen by ?lang=, cookie or the browser."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

from flask import Flask, request
from flask_babel import Babel, get_locale

LANGUAGES = ("en", "az", "tr")
LANGUAGE_NAMES = {"en": "English", "az": "Azərbaycanca", "tr": "Türkçe"}
TRANSLATIONS_DIR = Path(__file__).resolve().parent / "translations"


def select_locale() -> str:
    """Pick the page language: explicit choice first, then the browser's preference."""
    chosen = request.args.get("lang") or request.cookies.get("lang")
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(LANGUAGES) or "en"


def language_url(code: str) -> str:
    """Return this page's address in another language, keeping its other parameters."""
    args = request.args.to_dict(flat=False)
    args["lang"] = [code]
    return request.path + "?" + urlencode(args, doseq=True)


def init_i18n(app: Flask) -> None:
    """Attach Flask-Babel with Emanet's catalogues."""
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS_DIR))
    Babel(app, locale_selector=select_locale)
    app.jinja_env.globals.update(
        LANGUAGE_NAMES=LANGUAGE_NAMES, get_locale=get_locale, language_url=language_url
    )
