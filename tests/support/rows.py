"""Valid request rows, the base every test of refusals breaks one field of."""

GOOD_METRICS = {
    "cpu_util": 0.4,
    "mem_util": 0.5,
    "disk_io_mbps": 3.0,
    "net_in_mbps": 10.0,
    "net_out_mbps": 40.0,
    "latency_p99_ms": 120.0,
    "error_rate": 0.001,
    "request_rate": 250,
}
GOOD_USAGE = {  # a day of an m5.xlarge on spot in Ireland, as FOCUS describes it
    "vcpu_hours": 96.0,
    "memory_gib_hours": 384.0,
    "gpu_hours": 0.0,
    "storage_gib_month": 20.0,
    "egress_gib": 12.5,
    "requests": 1_000_000,
    "cores": 4,
    "memory_gib": 16,
    "gpus": 0,
    "provider": "AWS",
    "region": "eu-west-1",
    "service_category": "Compute",
    "service_subcategory": "Virtual Machines",
    "pricing_category": "Dynamic",
    "commitment_status": None,
    "charge_frequency": "Usage-Based",
}
