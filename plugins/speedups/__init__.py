"""Pelican's own repeated work, done once: fixed URLs, constant-time membership."""

from .plugin import register

__all__ = ["register"]
