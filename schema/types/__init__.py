"""Strawberry types per domain. Each is built from its table row by ``from_row`` and keeps the row private."""
