"""FOCUS's value lists, and how the cost model reads a provider and a region.

The lists are the specification's allowed values (FinOps-Open-Cost-and-Usage-Spec/FOCUS_Spec,
``specification/columns/``, the same in 1.0, 1.1 and 1.2); the reader
(:mod:`aetheredge.focus`) checks charges against them and the cost model's contract
(:mod:`aetheredge.kinds.cost`) takes them as its categories.

``ProviderName`` and ``RegionId`` are free text: each provider names its own regions,
and there are hundreds. The model reads the provider as one of the four large clouds
(or "Other"), and a region as the area it lies in, by the naming each of the four
uses: AWS and Oracle prefix the area (``eu-west-1``, ``sa-saopaulo-1``), Google names
it (``europe-west1``, ``southamerica-east1``), Microsoft names the place
(``westeurope``, ``brazilsouth``, ``eastus2``). A charge with no region (Oracle leaves
many null; global services have none) is ``global``; a name no rule reads, ``other``.
"""

from __future__ import annotations

import re

CHARGE_CATEGORIES = ("Usage", "Purchase", "Tax", "Credit", "Adjustment")
CHARGE_CLASSES = ("Correction",)
CHARGE_FREQUENCIES = ("Usage-Based", "Recurring", "One-Time")
PRICING_CATEGORIES = ("Standard", "Dynamic", "Committed", "Other")
SERVICE_CATEGORIES = (
    "AI and Machine Learning",
    "Analytics",
    "Business Applications",
    "Compute",
    "Databases",
    "Developer Tools",
    "Multicloud",
    "Identity",
    "Integration",
    "Internet of Things",
    "Management and Governance",
    "Media",
    "Migration",
    "Mobile",
    "Networking",
    "Security",
    "Storage",
    "Web",
    "Other",
)

# ServiceSubcategory's allowed values (introduced in 1.1), grouped by ServiceCategory.
SERVICE_SUBCATEGORIES = (
    "Bots",
    "Generative AI",
    "Machine Learning",
    "Natural Language Processing",
    "Other (AI and Machine Learning)",
    "Analytics Platform",
    "Business Intelligence",
    "Data Processing",
    "Search",
    "Streaming Analytics",
    "Other (Analytics)",
    "Other (Business Applications)",
    "Containers",
    "End User Computing",
    "Quantum",
    "Serverless Compute",
    "Virtual Machines",
    "Other (Compute)",
    "Caching",
    "Data Warehouse",
    "Relational",
    "NoSQL",
    "Ledger",
    "Time Series",
    "Other (Databases)",
    "Other (Developer Tools)",
    "Other (Identity)",
    "API Management",
    "Messaging",
    "Workflow Automation",
    "Other (Integration)",
    "Other (Internet of Things)",
    "Administration",
    "Architecture",
    "Compliance",
    "Cost Management",
    "Data Governance",
    "Disaster Recovery",
    "Observability",
    "Support",
    "Other (Management and Governance)",
    "Other (Media)",
    "Other (Migration)",
    "Other (Mobile)",
    "Other (Multicloud)",
    "Content Delivery",
    "Data Transfer",
    "Load Balancing",
    "Network Management",
    "Network Security",
    "Other (Networking)",
    "CSPM",
    "Credentials",
    "SIEM",
    "Threat Detection",
    "Other (Security)",
    "Backups",
    "Bulk Transfer",
    "Disk",
    "Files",
    "Object Storage",
    "Other (Storage)",
    "Other (Web)",
    "Other (Other)",
)
# The cost model's: the allowed values, "none" where a file has none (FOCUS 1.0), and
# "other" for a value the list does not hold.
SUBCATEGORIES = (*SERVICE_SUBCATEGORIES, "none", "other")

PROVIDERS = ("AWS", "Microsoft", "Google Cloud", "Oracle", "Other")
_PROVIDER_NAMES = (
    ("AWS", re.compile(r"\b(aws|amazon)\b")),
    ("Microsoft", re.compile(r"\b(microsoft|azure)\b")),
    ("Google Cloud", re.compile(r"\b(google|gcp)\b")),
    ("Oracle", re.compile(r"\b(oracle|oci)\b")),
)

AREAS = (
    "north-america",
    "south-america",
    "europe",
    "asia-pacific",
    "middle-east-africa",
    "global",
    "other",
)
# First match wins: Africa and the Middle East before the rest ("southafricanorth"),
# South America before North ("sa-east-1"), the "us" rules last ("australiaeast").
_AREA_RULES = (
    (
        "middle-east-africa",
        re.compile(r"^(me|af|il)-|africa|uae|qatar|israel|saudi|bahrain|kuwait|oman|middleeast"),
    ),
    ("south-america", re.compile(r"^sa-|southamerica|brazil|chile|argentina|colombia")),
    (
        "europe",
        re.compile(
            r"^(eu|uk)-|europe|^uk|france|germany|sweden|switzerland|norway|italy|poland|"
            r"spain|austria|belgium|denmark|finland|ireland|netherlands"
        ),
    ),
    (
        "asia-pacific",
        re.compile(
            r"^ap-|asia|australia|japan|korea|india|newzealand|indonesia|malaysia|taiwan|"
            r"singapore|hongkong|thailand"
        ),
    ),
    ("north-america", re.compile(r"^(us|ca|mx)-|^us|us\d*$|canada|northamerica|mexico")),
)


def provider_of(name: object) -> str | None:
    """The cost model's provider for a ``ProviderName``: one of :data:`PROVIDERS`, or
    None for a value that is not text."""
    if name is None:
        return "Other"
    if not isinstance(name, str):
        return None
    text = name.strip().lower()
    return next((p for p, rule in _PROVIDER_NAMES if rule.search(text)), "Other")


def area_of(region_id: object) -> str | None:
    """The area of a ``RegionId``: one of :data:`AREAS`, or None for a value that is
    not text."""
    if region_id is None or region_id == "":
        return "global"
    if not isinstance(region_id, str):
        return None
    text = region_id.strip().lower().replace(" ", "")
    if text in AREAS:
        return text  # an area already
    if text == "none":
        return "global"
    return next((area for area, rule in _AREA_RULES if rule.search(text)), "other")


def subcategory_of(value: object) -> str | None:
    """A ``ServiceSubcategory`` as one of :data:`SUBCATEGORIES`, or None for a value
    that is not text."""
    if value is None or value == "":
        return "none"
    if not isinstance(value, str):
        return None
    return value if value in SERVICE_SUBCATEGORIES or value in ("none", "other") else "other"


def commitment_of(status: object) -> str | None:
    """The commitment status of usage: ``Used`` when a commitment covered it, ``none``
    (FOCUS's null) when none did. An unused commitment is no resource's usage: None."""
    if status is None or status in ("", "none"):
        return "none"
    return "Used" if status == "Used" else None
