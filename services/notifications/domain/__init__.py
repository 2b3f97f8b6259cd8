"""The notifications domain: the templates (templates.py), who hears what
(rules.py) and a delivery's life (delivery.py).  Plain Python: no Flask,
SQLAlchemy or kombu."""

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
    asked,
    concern_raised,
    day,
    membership_changed,
    new_referral,
    no_offers,
    offer_awarded,
    offer_unsuccessful,
    reminder_due,
    reminders,
    wanted,
    when,
)
from .templates import TEMPLATES, Audience, MissingValue, Rendered, Template, template

__all__ = ["REMINDER_BEFORE", "RETRY_DELAYS", "TEMPLATES", "Audience", "Delivery", "DeliveryStatus", "Links",
           "MissingValue", "Notice", "PermanentFailure", "PublishedReferral", "Recipient", "Rendered", "Template",
           "TemporaryFailure", "asked", "concern_raised", "day", "membership_changed", "new_referral", "no_offers",
           "offer_awarded", "offer_unsuccessful", "reminder_due", "reminders", "template", "wanted", "when"]
__all__ += ["ADDRESS_LATE_BY", "NO_ADDRESS"]  # a recipient with no address (yet)
