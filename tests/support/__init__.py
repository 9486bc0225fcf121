"""What the tests share: the live platform, steady load, outages, and manifest tools."""
