"""Who may call what: API keys, the gate in front of every route, and the per-key rate
limit.
"""
