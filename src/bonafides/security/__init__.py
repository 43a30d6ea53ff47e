"""Accounts, keys, encryption of personal identifiers and the audit chain."""
