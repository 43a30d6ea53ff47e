"""Screening: single checks, batch screening of files, and verifiable check certificates."""
