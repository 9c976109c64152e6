"""How the RFM segments are named and explained on a page, in the page's language."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

SEGMENT_NAMES: dict[str, LazyString] = {
    "champions": _l("Champions"),
    "loyal": _l("Loyal"),
    "potential_loyalist": _l("Potential loyalist"),
    "new": _l("New"),
    "at_risk": _l("At risk"),
    "hibernating": _l("Hibernating"),
    "lost": _l("Lost"),
}

SEGMENT_DESCRIPTIONS: dict[str, LazyString] = {
    "champions": _l("Bought recently, buy often and spend the most."),
    "loyal": _l("Buy often and have bought not long ago."),
    "potential_loyalist": _l("Bought not long ago; could buy more often."),
    "new": _l("Bought recently, but few times so far."),
    "at_risk": _l("Used to buy often, but not lately."),
    "hibernating": _l("Have not bought for a while, and not often."),
    "lost": _l("Bought long ago and seldom."),
}


def segment_label(code: str) -> str:
    """Return a segment's name in the page's language."""
    return str(SEGMENT_NAMES.get(code, code))
