"""Promptster: local-first, verifiable recordings of AI-assisted coding sessions."""

__version__ = "0.1.0"
