"""Readers take part: the Ask page, question outcomes and their list page."""

from .plugin import register

__all__ = ["register"]
