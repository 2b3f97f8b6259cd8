"""The portal's forms (WTForms through Flask-WTF: each carries its CSRF token).

A form validates only what a person can get wrong on the page itself (a required answer, a number); the
services' rules stay in the services, whose field errors the form then shows (`show_refusal`)."""

from __future__ import annotations

from datetime import date

from flask_wtf import FlaskForm
from wtforms import DecimalField, IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from services.portal.client import Refused

ROLES = [("manager", "The DPS manager"), ("officer", "An officer of a commissioning team"),
         ("provider", "A user of a provider")]


class DevelopmentSignInForm(FlaskForm):
    role = RadioField("Sign in as", choices=ROLES, validators=[InputRequired("Select who to sign in as")])
    team = SelectField("Team", choices=[], validators=[Optional()])
    provider_id = StringField("Provider id", validators=[Optional(), Length(max=36)])


class EmailLinkForm(FlaskForm):
    email = StringField("Email address", validators=[DataRequired("Enter your email address"), Length(max=320)])


class OfferForm(FlaskForm):
    pricing_line_id = RadioField("Which line of your pricing schedule are you offering?", choices=[],
                                 validators=[InputRequired("Select a line of your pricing schedule")])
    unit_price = DecimalField("Price per unit, in pounds", places=2,
                              validators=[InputRequired("Enter the price per unit, like 450.00"),
                                          NumberRange(min=0, message="Enter a price of £0 or more")])
    units_per_week = DecimalField("Units per week", places=2,
                                  validators=[InputRequired("Enter how many units a week")])
    weeks = IntegerField("Weeks", validators=[InputRequired("Enter how many weeks")])
    # the Design System's date input: day, month and year
    start_day = StringField("Day", name="proposed_start-day")
    start_month = StringField("Month", name="proposed_start-month")
    start_year = StringField("Year", name="proposed_start-year")
    delivery_site = StringField("Where it is delivered", validators=[DataRequired("Enter the delivery site")])
    delivery_postcode = StringField("Postcode of the delivery site",
                                    validators=[DataRequired("Enter the postcode of the delivery site")])
    how_it_meets_needs = TextAreaField("How your offer meets the child's needs",
                                       validators=[DataRequired("Say how your offer meets the child's needs")])
    place_available = RadioField("Is a place available from the proposed start?",
                                 choices=[("yes", "Yes"), ("no", "No")],
                                 validators=[InputRequired("Say whether a place is available")])

    # the services' field names -> this form's
    FIELDS = {"unit_price_pence": "unit_price", "proposed_start": "start_day"}

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        try:
            self.proposed_start = date(int(self.start_year.data or ""), int(self.start_month.data or ""),
                                       int(self.start_day.data or ""))
        except ValueError:
            self.start_day.errors = [*self.start_day.errors, "Enter the proposed start date as a real date, like "
                                                             "27 1 2025"]
            valid = False
        return valid

    def terms(self, answers: dict) -> dict:
        return {"pricing_line_id": self.pricing_line_id.data, "unit_price_pence": int(self.unit_price.data * 100),
                "units_per_week": float(self.units_per_week.data), "weeks": self.weeks.data,
                "proposed_start": self.proposed_start.isoformat(), "delivery_site": self.delivery_site.data,
                "delivery_postcode": self.delivery_postcode.data,
                "how_it_meets_needs": self.how_it_meets_needs.data,
                "place_available": self.place_available.data == "yes", "answers": answers}


def show_refusal(form: FlaskForm, refused: Refused, *, names: dict | None = None) -> list[str]:
    """Puts a service's field errors on the form's fields (by the service's field name, or `names`); returns
    the messages no field of the form shows, for the error summary alone."""
    names = {**getattr(form, "FIELDS", {}), **(names or {})}
    unplaced: list[str] = []
    for name, reasons in _flat(refused.field_errors):
        field = getattr(form, names.get(name, name), None)
        if field is not None and hasattr(field, "errors"):
            field.errors = [*(field.errors or []), *reasons]
        else:
            unplaced.extend(reasons)
    if not refused.field_errors:
        unplaced.append(refused.message)
    return unplaced


def _flat(errors: dict, prefix: str = ""):
    for name, value in errors.items():
        key = f"{prefix}{name}"
        if isinstance(value, dict):
            yield from _flat(value, f"{key}.")
        else:
            yield key, [str(v) for v in (value if isinstance(value, list) else [value])]


def error_summary(form: FlaskForm, extra: list[str] = ()) -> list[dict]:
    """The Design System's error summary: each field's first error, linking to the field."""
    items = [{"text": field.errors[0], "href": f"#{field.id}"} for field in form if field.errors]
    return items + [{"text": message} for message in extra]
