"""Desk: a terminal trading desk."""

__version__ = "0.1.0"
