"""Forms of the requests, consent and connection pages (each carries a CSRF token).

The ticked fields of the consent and narrowing forms arrive as a list named `fields`;
the views check them against the agreement, so no field list lives in the form class.
Each button has its own name, so several forms on one page keep their ids apart.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SubmitField


class DecisionForm(FlaskForm):
    """The answer to a request: share the ticked fields, or decline."""

    next = HiddenField()
    grant = SubmitField(_l("Share the ticked fields"))
    decline = SubmitField(_l("Decline"))


class NarrowForm(FlaskForm):
    """Keep only the ticked fields of an active agreement."""

    narrow = SubmitField(_l("Stop sharing the unticked fields"))


class PauseForm(FlaskForm):
    """Pause an agreement (GDPR Art. 18 restriction)."""

    pause = SubmitField(_l("Pause sharing"))


class ResumeForm(FlaskForm):
    """Lift a pause."""

    resume = SubmitField(_l("Resume sharing"))


class RevokeForm(FlaskForm):
    """The confirmation that ends an agreement."""

    revoke = SubmitField(_l("Yes, revoke"))
