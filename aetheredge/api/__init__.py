"""The HTTP contract: ``/v1`` request and response types, the Open Inference Protocol
(V2) codec, body limits, the errors every refusal raises, and a client of the service.
"""
