"""Strawberry types per domain. Each is built from its table row (``base.build_all``, or the type's own ``from_row``)
and keeps the row private."""
