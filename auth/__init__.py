"""Accounts, tokens, the viewer, permissions and jurisdiction scope."""
