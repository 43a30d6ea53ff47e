"""Data exchange with the outside: the change feed as each audience may read it,
watchlists and their webhooks, open-data exports and their downstream consumers."""
