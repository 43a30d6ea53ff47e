"""Ingest: department files and API batches into the record store, row by row accountable."""
