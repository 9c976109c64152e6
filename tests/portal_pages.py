"""Every page of the business portal, found in the app's URL map and filled from a tour."""

from __future__ import annotations

from flask import Flask, url_for

from tests.portal_tour import PortalTour

# Not pages a person reads: files, downloads, polling answers, and the sign-in pages.
NOT_PAGES = ("portal_staff.static", "portal_staff.login", "portal_compliance.login")
# A report's file exists once its job has run; the tour only queues one.
NOT_DOWNLOADS = ("portal_compliance.report_file",)
DOWNLOAD_ENDINGS = (".csv", ".jws", ".svg", ".json", "/file")


def portal_pages(app: Flask, tour: PortalTour) -> dict[str, str]:
    """Return endpoint → path for every GET page a signed-in owner can open."""
    pages: dict[str, str] = {}
    values = dict(tour.values)
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if not rule.endpoint.startswith("portal_") or "GET" not in (rule.methods or ()):
                continue
            if rule.endpoint in NOT_PAGES or rule.rule.endswith(DOWNLOAD_ENDINGS):
                continue
            filled = {**values, "code": "champions"} if "segments" in rule.rule else values
            missing = set(rule.arguments) - set(filled)
            assert not missing, f"the tour cannot fill {missing} of {rule.rule}"
            pages[rule.endpoint] = url_for(rule.endpoint, **{k: filled[k] for k in rule.arguments})
    return dict(sorted(pages.items()))


def portal_downloads(app: Flask, tour: PortalTour) -> dict[str, str]:
    """Return endpoint → path for every download a signed-in owner can fetch."""
    found: dict[str, str] = {}
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if not rule.endpoint.startswith("portal_") or rule.endpoint in NOT_PAGES:
                continue
            if not rule.rule.endswith(DOWNLOAD_ENDINGS) or rule.endpoint in NOT_DOWNLOADS:
                continue
            filled = (
                {**tour.values, "code": "champions"} if "segments" in rule.rule else tour.values
            )
            found[rule.endpoint] = url_for(rule.endpoint, **{k: filled[k] for k in rule.arguments})
    return dict(sorted(found.items()))
