"""Free-text FOCUS values read as the cost model's categories: every provider's regions
by the naming each uses, providers by name, service subcategories by the list."""

import pytest

from aetheredge.features.focus_values import (
    AREAS,
    area_of,
    commitment_of,
    provider_of,
    subcategory_of,
)

REGIONS = {
    "north-america": [
        "us-east-1",
        "ca-central-1",
        "us-gov-west-1",
        "eastus",
        "westus2",
        "centralus",
        "canadacentral",
        "us-central1",
        "northamerica-northeast1",
        "us-ashburn-1",
        "mx-queretaro-1",
    ],
    "south-america": [
        "sa-east-1",
        "brazilsouth",
        "southamerica-east1",
        "sa-saopaulo-1",
        "chilecentral",
    ],
    "europe": [
        "eu-west-1",
        "eu-central-2",
        "westeurope",
        "northeurope",
        "uksouth",
        "germanywestcentral",
        "europe-west1",
        "eu-frankfurt-1",
        "uk-london-1",
    ],
    "asia-pacific": [
        "ap-southeast-1",
        "ap-northeast-1",
        "japaneast",
        "australiaeast",
        "southeastasia",
        "centralindia",
        "asia-northeast1",
        "australia-southeast1",
        "ap-tokyo-1",
    ],
    "middle-east-africa": [
        "me-central-1",
        "af-south-1",
        "il-central-1",
        "uaenorth",
        "southafricanorth",
        "qatarcentral",
        "me-west1",
        "africa-south1",
        "me-jeddah-1",
        "af-johannesburg-1",
    ],
    "global": [None, "", "global"],
    "other": ["mars-north-1", "on-premises"],
}


@pytest.mark.parametrize(("area", "region"), [(a, r) for a, rs in REGIONS.items() for r in rs])
def test_every_providers_regions_are_read_as_their_area(area, region):
    assert area_of(region) == area


def test_areas_providers_subcategories_and_commitments():
    assert all(area_of(area) == area for area in AREAS)
    assert area_of(7) is None
    names = ["AWS", "Amazon Web Services", "Microsoft", "Microsoft Azure", "Google Cloud"]
    assert [provider_of(n) for n in [*names, "Oracle", "OCI", "Hetzner", None]] == [
        "AWS",
        "AWS",
        "Microsoft",
        "Microsoft",
        "Google Cloud",
        "Oracle",
        "Oracle",
        "Other",
        "Other",
    ]
    assert [subcategory_of(v) for v in ("Virtual Machines", "Teleportation", None)] == [
        "Virtual Machines",
        "other",
        "none",
    ]
    assert [commitment_of(v) for v in (None, "", "Used", "Unused")] == [
        "none",
        "none",
        "Used",
        None,
    ]
