"""Topics: explained auto-tagging into a controlled vocabulary, with topic pages."""

from .plugin import register

__all__ = ["register"]
