"""The privacy check on the words providers will read (issue #17 item 2): the
child's name or any one of its names alone, the date of birth as people write
it, the street of the home address, the UPN and the home postcode are each
refused, with where in the text and why, before anything is published."""

from datetime import date

import pytest

from services.referrals.domain import ChildDetails, FurtherQuestion, check_pseudonymised
from services.referrals.domain.profile import privacy_findings
from shared.errors import InvalidInput
from tests.unit.referrals.test_referral_form import profile

CHILD = ChildDetails(name="Zebedee Smith-Quartermaine", date_of_birth=date(2018, 11, 1), upn="A123456789012",
                     address="Flat 2, 14 Larkspur Road, London SE15 4QT")


def findings(text: str, field: str = "needs_and_risks") -> list:
    return privacy_findings(CHILD, profile(**{field: text}))


@pytest.mark.parametrize("text, kind", [
    ("Zebedee is anxious in groups.", "name"),                     # the first name alone
    ("zebedee is anxious in groups.", "name"),                     # any case
    ("The Quartermaine family asked for mornings.", "name"),       # one half of the surname
    ("Known as Smith-Quartermaine at school.", "name"),            # the surname alone
    ("Born 2018-11-01; anxious.", "date_of_birth"),
    ("Born 01/11/2018; anxious.", "date_of_birth"),
    ("Born 1/11/18; anxious.", "date_of_birth"),
    ("Born 1.11.2018; anxious.", "date_of_birth"),
    ("Born on 1st November 2018.", "date_of_birth"),
    ("Born on 1 Nov 2018.", "date_of_birth"),
    ("Born on the 1st of November 2018.", "date_of_birth"),
    ("Born November 1, 2018.", "date_of_birth"),
    ("Lives on Larkspur Road, near the park.", "street"),
    ("Lives on larkspur  road.", "street"),
    ("UPN A1234 5678 9012 on the roll.", "upn"),
    ("Lives near SE15 4QT.", "postcode"),
    ("Lives near se154qt.", "postcode"),
])
def test_each_kind_of_identifier_is_found(text, kind):
    found = findings(text)
    assert [f.kind for f in found] == [kind]
    assert found[0].field == "needs_and_risks"


@pytest.mark.parametrize("text", [
    "Zebedees are not a thing; Smithy is a nickname of another pupil.",  # whole words only
    "Anxious since 2018; two terms out of school.",                     # a year is not a date of birth
    "Attended 1/11 sessions in November.",
    "Needs a quiet road to the setting; lives in SE15.",                 # district only
    "Was at the school on Larkspur Lane.",                               # another street
])
def test_ordinary_words_are_not_findings(text):
    assert findings(text) == []


def test_a_finding_says_where_in_the_text_and_why_without_repeating_it():
    text = "Anxious. Zebedee likes maths."
    [found] = findings(text)
    assert text[found.start:found.end] == "Zebedee"
    assert "characters 10 to 16" in found.why and "names the child" in found.why
    assert "Zebedee" not in found.why


def test_the_full_name_is_one_finding_not_three():
    [found] = findings("Zebedee Smith-Quartermaine is anxious.")
    assert (found.kind, found.start) == ("name", 0)


def test_every_field_and_place_is_reported_at_once():
    with pytest.raises(InvalidInput) as refused:
        check_pseudonymised(CHILD, profile(needs_and_risks="Zebedee, born 2018-11-01.",
                                           aims="Return to school near Larkspur Road."),
                            [FurtherQuestion(id=None, text="Can you teach Zebedee?")])
    errors = refused.value.field_errors
    assert set(errors) == {"needs_and_risks", "aims", "questions"}
    assert len(errors["needs_and_risks"]) == 2
    assert refused.value.field == "aims"  # the first place to look
    assert "pseudonymised" in refused.value.message


def test_a_profile_that_identifies_no_one_passes():
    check_pseudonymised(CHILD, profile())
