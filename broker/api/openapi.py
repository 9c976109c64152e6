"""The OpenAPI 3.1 document of /api/v1, generated from the pydantic models it serves."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import Response, jsonify
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from broker.api.blueprint import api_vault, blueprint
from schemas.api import (
    AgreementDetailOut,
    AgreementPage,
    AmendmentIn,
    Created,
    InteractionList,
    InviteIn,
    InviteOut,
    ProfileOut,
    ProfilePage,
)
from schemas.interactions import InteractionEntry

PROBLEM_SCHEMA = {
    "type": "object",
    "description": "RFC 9457 problem details.",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
    },
}


@dataclass(frozen=True)
class Operation:
    """One route as the document describes it."""

    method: str
    path: str
    summary: str
    response: type[BaseModel]
    status: int = 200
    body: type[BaseModel] | None = None
    query: tuple[tuple[str, dict[str, Any], str], ...] = field(default=())


PAGING = (
    ("cursor", {"type": "string"}, "Where the previous page ended (its next_cursor)."),
    ("limit", {"type": "integer", "minimum": 1, "maximum": 500}, "How many items, 1–500."),
    (
        "updated_since",
        {"type": "string", "format": "date-time"},
        "Only what changed after this time (with its offset).",
    ),
)
OPERATIONS = (
    Operation(
        "get", "/customers/{subject}/profile", "Read the customer's granted fields", ProfileOut
    ),
    Operation(
        "get",
        "/customers/{subject}/interactions",
        "Read the interactions this business logged",
        InteractionList,
    ),
    Operation(
        "post",
        "/customers/{subject}/interactions",
        "Log an interaction",
        Created,
        201,
        InteractionEntry,
    ),
    Operation(
        "post",
        "/customers/{subject}/amendments",
        "Ask for more fields or a longer term",
        Created,
        202,
        AmendmentIn,
    ),
    Operation(
        "get",
        "/agreements",
        "List this business's agreements",
        AgreementPage,
        query=(
            (
                "status",
                {
                    "type": "string",
                    "enum": ["requested", "active", "declined", "revoked", "expired", "superseded"],
                },
                "Only agreements in this status.",
            ),
            *PAGING,
        ),
    ),
    Operation(
        "get",
        "/agreements/{agreement_id}",
        "Read one agreement with its history",
        AgreementDetailOut,
    ),
    Operation(
        "post",
        "/invites",
        "Create an invite link and QR code for the counter",
        InviteOut,
        201,
        InviteIn,
    ),
    Operation(
        "get",
        "/sync/profiles",
        "Bulk sync of granted profiles (client credentials)",
        ProfilePage,
        query=PAGING,
    ),
)


def build_document(issuer: str) -> dict[str, Any]:
    """Return the OpenAPI document."""
    models = {op.response for op in OPERATIONS} | {op.body for op in OPERATIONS if op.body}
    _, defs = models_json_schema(
        [
            (m, "validation" if m in {op.body for op in OPERATIONS} else "serialization")
            for m in sorted(models, key=lambda m: m.__name__)
        ],
        ref_template="#/components/schemas/{model}",
    )
    schemas = {**defs.get("$defs", {}), "Problem": PROBLEM_SCHEMA}
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        parameters = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in ("subject", "agreement_id")
            if "{" + name + "}" in op.path
        ] + [
            {"name": name, "in": "query", "required": False, "schema": schema, "description": text}
            for name, schema, text in op.query
        ]
        problems = {
            str(code): {
                "description": text,
                "content": {
                    "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
                },
            }
            for code, text in (
                (400, "Bad request"),
                (401, "No valid access token"),
                (403, "The agreement does not allow this"),
                (404, "Not found"),
            )
        }
        operation: dict[str, Any] = {
            "summary": op.summary,
            "operationId": op.method + op.path.replace("/", "_").replace("{", "").replace("}", ""),
            "parameters": parameters,
            "responses": {
                str(op.status): {
                    "description": "OK",
                    "content": {
                        "application/json": {
                            "schema": {"$ref": f"#/components/schemas/{op.response.__name__}"}
                        }
                    },
                },
                **problems,
            },
        }
        if op.body is not None:
            operation["requestBody"] = {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {"$ref": f"#/components/schemas/{op.body.__name__}"}
                    }
                },
            }
            operation["responses"]["415"] = problems["400"] | {"description": "Not JSON"}
            operation["responses"]["422"] = problems["400"] | {"description": "Invalid body"}
        paths.setdefault("/api/v1" + op.path, {})[op.method] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Emanet resource API",
            "version": "1.0.0",
            "description": "Read only what customers granted; every call passes the gate.",
        },
        "servers": [{"url": issuer}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An opaque token from /oauth/token.",
                }
            },
        },
        "security": [{"bearer": []}],
    }


@blueprint.get("/openapi.json")
def openapi() -> Response:
    """Serve the OpenAPI document."""
    return jsonify(build_document(api_vault().issuer))
