"""Reading and writing on every core: worker processes made with fork()."""

from .plugin import register

__all__ = ["register"]
