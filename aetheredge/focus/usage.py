"""What a FOCUS charge used, in the cost model's usage columns.

A charge's quantity is its ``ConsumedQuantity`` of ``ConsumedUnit``, or, where the
provider meters none (both columns are conditional), its ``PricingQuantity`` of
``PricingUnit``. By its unit (:mod:`~aetheredge.focus.units`):

- cores or GPUs times time ("vCPU-Hours", "OCPU Hours", "GPU-Hours") are vCPU or GPU
  hours; an OCPU is one physical core, two vCPUs (Oracle's x86 shapes);
- bytes times time are memory GiB-hours, or storage GiB-months under ``Storage``;
- bytes alone are egress when the charge says it sends data out, or, saying neither
  way, when it is ``Networking``; data coming in (free on every large cloud) is not;
- plain time ("Hours", as EC2 and Azure bill an instance) is instance time, whose
  cores, memory and GPUs come from ``SkuPriceDetails`` (FOCUS 1.1+, values per pricing
  unit) or Microsoft's ``x_SkuDetails``;
- requests are requests.

A charge whose unit gives none of these (licences, support, a plain "Hours" with no
facts) keeps its cost and counts no usage: the load reports how much cost that is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from aetheredge.focus.spec import key_values
from aetheredge.focus.units import Unit, parse

GIB = 2.0**30
HOURS_PER_MONTH = 730.0
VCPUS = {"vcpu": 1.0, "cpu": 1.0, "core": 1.0, "ocpu": 2.0}
DIRECTION_COLUMNS = ("SkuMeter", "ChargeDescription", "x_UsageType", "x_SkuMeterName")
_IN = re.compile(r"\b(in|inbound|ingress)\b|datatransfer-in|-in-bytes", re.IGNORECASE)
_OUT = re.compile(r"\b(out|outbound|egress|internet)\b|datatransfer-out|-out-bytes", re.I)


@dataclass(frozen=True)
class Facts:
    """An instance's size, per hour of it: vCPUs, memory (GiB), GPUs."""

    cores: float = 0.0
    memory_gib: float = 0.0
    gpus: float = 0.0

    @classmethod
    def of(cls, details: object, microsoft: object = None) -> Facts:
        """From a ``SkuPriceDetails`` JSON object (and ``x_SkuDetails``'s ``VCPUs`` or
        ``vCores``, where SkuPriceDetails names no cores)."""
        spec, azure = key_values(details), key_values(microsoft)
        cores = spec.get("CoreCount") or azure.get("VCPUs") or azure.get("vCores") or 0.0
        return cls(_number(cores), _number(spec.get("MemorySize")), _number(spec.get("GpuCount")))


def _number(value: object) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0.0
    return number if number > 0 else 0.0


def direction(texts: list[object]) -> str | None:
    """ "in" or "out" where a charge's meter or description says which way its data
    went; None where it does not."""
    text = " ".join(t for t in texts if isinstance(t, str))
    outbound, inbound = bool(_OUT.search(text)), bool(_IN.search(text))
    return "out" if outbound and not inbound else "in" if inbound and not outbound else None


def per_unit(unit: Unit | None, category: str, way: str | None, facts: Facts) -> dict[str, float]:
    """The usage in one ``unit`` of a charge of ``ServiceCategory`` ``category``."""
    if unit is None or unit.per_hours:
        return {}  # a rate (GB/Hour: provisioned bandwidth) is no amount used
    if unit.measure == "bytes":
        gib = unit.scale / GIB
        if unit.hours:
            if category == "Storage":
                return {"storage_gib_month": gib * unit.hours / HOURS_PER_MONTH}
            return {"memory_gib_hours": gib * unit.hours}
        out = way == "out" or (way is None and category == "Networking")
        return {"egress_gib": gib} if out else {}
    if unit.hours and unit.measure in VCPUS:
        return {"vcpu_hours": unit.scale * unit.hours * VCPUS[unit.measure]}
    if unit.hours and unit.measure == "gpu":
        return {"gpu_hours": unit.scale * unit.hours}
    if unit.measure == "hours":
        amounts = {
            "vcpu_hours": facts.cores * unit.scale,
            "memory_gib_hours": facts.memory_gib * unit.scale,
            "gpu_hours": facts.gpus * unit.scale,
        }
        return {k: v for k, v in amounts.items() if v}
    if unit.measure == "request":
        return {"requests": unit.scale}
    return {}


def unit_of(text: object) -> Unit | None:
    return parse(text) if isinstance(text, str) else None
