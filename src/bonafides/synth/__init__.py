"""Synthetic demonstration data: departments, subjects, records and files that look real
and concern nobody (DESIGN §4, §69, §70)."""
