"""The notifications domain: the templates (templates.py), who hears what
(rules.py) and a delivery's life (delivery.py).  Plain Python: no Flask,
SQLAlchemy or kombu."""

from . import provider_rules  # what providers and applicants hear beyond a referral's life (#18)
from .delivery import (
    ADDRESS_LATE_BY,
    NO_ADDRESS,
    RETRY_DELAYS,
    Delivery,
    DeliveryStatus,
    PermanentFailure,
    TemporaryFailure,
)
from .rules import (
    REMINDER_BEFORE,
    Links,
    Notice,
    PublishedReferral,
    Recipient,
    application_decision,
    asked,
    concern_raised,
    day,
    dead_letters,
    membership_changed,
    new_referral,
    no_offers,
    off_dps_exception,
    offer_awarded,
    offer_unsuccessful,
    officer,
    reminder_due,
    reminders,
    review,
    sixth_day,
    wanted,
    when,
    window_closed,
)
from .templates import TEMPLATES, Audience, MissingValue, Rendered, Template, template

__all__ = ["REMINDER_BEFORE", "RETRY_DELAYS", "TEMPLATES", "Audience", "Delivery", "DeliveryStatus", "Links",
           "MissingValue", "Notice", "PermanentFailure", "PublishedReferral", "Recipient", "Rendered", "Template",
           "TemporaryFailure", "asked", "concern_raised", "day", "membership_changed", "new_referral", "no_offers",
           "offer_awarded", "offer_unsuccessful", "reminder_due", "reminders", "template", "wanted", "when",
           "application_decision", "dead_letters", "off_dps_exception", "officer", "review", "sixth_day",
           "window_closed"]
__all__ += ["provider_rules"]
__all__ += ["ADDRESS_LATE_BY", "NO_ADDRESS"]  # a recipient with no address (yet)
