"""A provider's own users change its record only while it is a member of some lot (issue 13,
defect 10): removed from every lot, or past the end of the DPS term, it may no longer."""

from datetime import timedelta

import pytest

from shared.errors import Forbidden
from tests.unit.provider_registry.test_domain_registry_providers import ADMITTED, admitted_provider


def test_a_member_of_any_lot_may_change_its_record():
    provider = admitted_provider(lots=(1, 2))
    provider.require_member(ADMITTED.date())
    provider.remove(1, "poor performance", ADMITTED)
    provider.require_member(ADMITTED.date())  # still on lot 2
    provider.suspend(2, "insurance lapsed", ADMITTED)
    provider.require_member(ADMITTED.date())  # suspended is still a member


def test_removed_from_every_lot_it_may_not():
    provider = admitted_provider(lots=(1, 2))
    provider.remove(1, "poor performance", ADMITTED)
    provider.remove(2, "poor performance", ADMITTED)
    with pytest.raises(Forbidden, match="removed or has ended"):
        provider.require_member(ADMITTED.date())


def test_past_the_end_of_the_term_it_may_not():
    provider = admitted_provider(lots=(1,))
    end = provider.membership(1).ends_on
    provider.require_member(end)
    with pytest.raises(Forbidden):
        provider.require_member(end + timedelta(days=1))
