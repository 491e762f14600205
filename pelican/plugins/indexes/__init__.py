"""Indexes: category descriptions, question lists, related content."""

from .plugin import register

__all__ = ["register"]
