"""Checks against remote government systems: the national population database (identity) and the
social-organisation legal-person database (teams). Pluggable adapters with a local offline default."""
