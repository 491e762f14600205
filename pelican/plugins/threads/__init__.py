"""Q&A threads and threaded comments: read, model, render, feeds, JSON-LD."""

from .plugin import register

__all__ = ["register"]
