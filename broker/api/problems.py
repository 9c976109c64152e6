"""RFC 9457 problem details: every API error is one of these."""

from __future__ import annotations

from typing import Any

from flask import Response, json

PROBLEM_BASE = "https://emanet.example/problems/"


class Problem(Exception):
    """An error the API reports as an application/problem+json document."""

    def __init__(
        self,
        status: int,
        kind: str,
        title: str,
        detail: str | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail or title)
        self.status = status
        self.kind = kind
        self.title = title
        self.detail = detail
        self.headers = headers or {}
        self.extra = extra

    def response(self, instance: str | None = None) -> Response:
        """Render the problem document (RFC 9457 §3)."""
        body: dict[str, Any] = {
            "type": PROBLEM_BASE + self.kind,
            "title": self.title,
            "status": self.status,
        }
        if self.detail:
            body["detail"] = self.detail
        if instance:
            body["instance"] = instance
        body.update(self.extra)
        response = Response(
            json.dumps(body), status=self.status, mimetype="application/problem+json"
        )
        response.headers.update(self.headers)
        response.headers["Cache-Control"] = "no-store"
        return response
