"""LLM Session Manager: exact, light monitoring of AI coding sessions."""

__version__ = "0.1.0"
