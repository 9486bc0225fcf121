"""Model evaluation and research: the anomaly detector on NAB's real series, scored by
NAB's own rules, and what each feature group buys. Not performance benchmarks (those
are ``benchmarks/``), and neither ships in the package or the image."""
