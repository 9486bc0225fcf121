"""A model's life after training: the promotion gates, moving the champion alias, the
audit trail of model events, and the drift check.
"""
