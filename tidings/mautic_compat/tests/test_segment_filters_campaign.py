"""Mautic's "campaign" segment filter (in / not in campaigns, by id) read as Tidings' campaign membership filter
and written back; unknown campaign ids are refused without repeating the value."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from tidings.mautic_compat.segment_filters import from_mautic, to_mautic
from tidings.mautic_compat.tests.test_segment_filters import Acme, mautic

pytestmark = pytest.mark.engine_independent


class AcmeWithCampaigns(Acme):
    def campaign_id(self, value):
        return {"5": 5, "6": 6}.get(value)


LOOKUP = AcmeWithCampaigns()


@pytest.mark.parametrize(("operator", "ours"), [("in", "in"), ("!in", "not_in"), ("=", "in"), ("!=", "not_in")])
def test_campaign_membership_is_read_and_written_back(operator, ours):
    value = ["5", "6"] if operator in ("in", "!in") else "5"
    definition = from_mautic([mautic("campaign", operator, value, type="campaign")], lookup=LOOKUP)
    expected = [5, 6] if operator in ("in", "!in") else [5]
    assert definition == {"match": "all", "filters": [{"kind": "campaign", "operator": ours, "value": expected}]}
    (item,) = to_mautic(definition, lookup=LOOKUP)
    assert (item["field"], item["type"], item["operator"]) == ("campaign", "campaign", "in" if ours == "in" else "!in")
    assert item["properties"]["filter"] == [str(i) for i in expected]
    assert from_mautic([item], lookup=LOOKUP) == definition


def test_an_unknown_campaign_is_refused():
    with pytest.raises(ValidationError) as caught:
        from_mautic([mautic("campaign", "in", ["5", "99"], type="campaign")], lookup=LOOKUP)
    assert caught.value.message_dict == {"filters.0.properties.filter": ["unknown campaign"]}


def test_a_lookup_without_campaigns_refuses_the_filter():
    with pytest.raises(ValidationError):
        from_mautic([mautic("campaign", "in", ["5"], type="campaign")], lookup=Acme())
