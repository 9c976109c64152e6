"""Every portal route, by area: another business's staff get 404 for every URL that names this
business's records, and a viewer gets 403 on every change. The routes come from the URL map,
so a route added later is checked without touching this file."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask, url_for
from flask.testing import FlaskClient
from werkzeug.routing import Rule

from business_portal.web_routes import portal_blueprints
from tests.business_portal.conftest import PortalBusiness, csrf_token
from tests.portal_tour import PortalTour, build_portal_tour
from vault.unit_of_work import Vault

# Routes that name no record of a business: static files, signing in and out, and segment
# pages (their argument is a segment's name, the same for every business).
NAMES_NO_RECORD = {
    "portal_staff.static",
    "portal_staff.login",
    "portal_staff.logout",
    "portal_compliance.login",
    "portal_compliance.logout",
}
SEGMENT_ROUTES = {"portal_segments.segment_members", "portal_segments.segment_csv"}
# Changes a viewer may make: to their own session and their own saved views of the list.
VIEWER_MAY = {
    "portal_staff.login",
    "portal_staff.logout",
    "portal_compliance.login",
    "portal_compliance.logout",
    "portal_customers.save_view",
    "portal_customers.delete_view",
}
CHANGES = {"POST"}


def _portal_rules() -> list[Rule]:
    app = Flask(__name__)
    for blueprint in portal_blueprints():
        app.register_blueprint(blueprint)
    return [r for r in app.url_map.iter_rules() if r.endpoint.startswith("portal_")]


RULES = _portal_rules()
AREAS = sorted({r.endpoint.partition(".")[0] for r in RULES})


def _url(app: Flask, rule: Rule, tour: PortalTour) -> str:
    values = dict(tour.values)
    if rule.endpoint in SEGMENT_ROUTES:
        values["code"] = "champions"
    missing = set(rule.arguments) - set(values)
    assert not missing, f"the tour cannot fill {missing} of {rule.rule}"
    with app.test_request_context():
        return url_for(rule.endpoint, **{k: values[k] for k in rule.arguments})


def _ask(client: FlaskClient, method: str, url: str, token: str) -> int:
    if method == "GET":
        return client.get(url).status_code
    return client.post(url, data={"csrf_token": token}).status_code


@pytest.fixture
def tours(vault: Vault, business: PortalBusiness, other_business: PortalBusiness) -> PortalTour:
    """Build both businesses' CRMs; return the other business's (the one that must not leak)."""
    build_portal_tour(vault, business)
    return build_portal_tour(vault, other_business, tag="B")


@pytest.mark.parametrize("area", AREAS)
def test_staff_of_another_business_get_404_for_every_url_naming_its_records(
    area: str, app: Flask, tours: PortalTour, staff_client: Callable[..., FlaskClient]
) -> None:
    checked, wrong = 0, []
    for rule in RULES:
        if rule.endpoint.partition(".")[0] != area or not rule.arguments:
            continue
        if rule.endpoint in NAMES_NO_RECORD | SEGMENT_ROUTES:
            continue
        role = "compliance" if area == "portal_compliance" else "owner"
        client = staff_client(role)
        token = csrf_token(client.get("/portal/login").text)
        url = _url(app, rule, tours)
        for method in sorted((rule.methods or set()) & {"GET", "POST"}):
            status = _ask(client, method, url, token)
            checked += 1
            if status != 404:
                wrong.append(f"{method} {url} ({rule.endpoint}): {status}")
    assert wrong == []
    if area not in {"portal_dashboard", "portal_staff", "portal_segments"}:
        assert checked, f"{area} has no route naming a record"


@pytest.mark.parametrize("area", AREAS)
def test_a_viewer_gets_403_on_every_change(
    area: str,
    app: Flask,
    vault: Vault,
    business: PortalBusiness,
    staff_client: Callable[..., FlaskClient],
) -> None:
    tour = build_portal_tour(vault, business)
    client = staff_client("viewer")
    token = csrf_token(client.get("/portal/login").text)
    wrong = []
    for rule in RULES:
        if rule.endpoint.partition(".")[0] != area or rule.endpoint in VIEWER_MAY:
            continue
        if not (rule.methods or set()) & CHANGES:
            continue
        url = _url(app, rule, tour)
        status = _ask(client, "POST", url, token)
        if status != 403:
            wrong.append(f"POST {url} ({rule.endpoint}): {status}")
    assert wrong == []
