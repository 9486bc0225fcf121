"""Ray Serve applications of AetherEdge (import path ``serve.app:app``)."""
