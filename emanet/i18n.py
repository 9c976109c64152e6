"""Languages: English, Azerbaijani and Turkish, chosen by ?lang=, cookie, account or browser."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

from flask import Flask, Response, g, request
from flask_babel import Babel, get_locale

LANGUAGES = ("en", "az", "tr")
LANGUAGE_NAMES = {"en": "English", "az": "Azərbaycanca", "tr": "Türkçe"}
TRANSLATIONS_DIR = Path(__file__).resolve().parent / "translations"


def select_locale() -> str:
    """Pick the page language: ?lang=, the `lang` cookie, the account's saved language
    (`g.customer_locale`, set for a signed-in customer), then the browser's preference."""
    for chosen in (
        request.args.get("lang"),
        request.cookies.get("lang"),
        g.get("customer_locale"),
    ):
        if chosen in LANGUAGES:
            return str(chosen)
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

    @app.after_request
    def remember_language(response: Response) -> Response:
        # A language picked on any page stays picked on the next one.
        chosen = request.args.get("lang")
        if chosen in LANGUAGES and request.cookies.get("lang") != chosen:
            response.set_cookie(
                "lang", chosen, max_age=365 * 24 * 3600, secure=True, httponly=True, samesite="Lax"
            )
        return response
