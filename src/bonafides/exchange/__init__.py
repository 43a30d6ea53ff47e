"""Data exchange: the change feed as each audience may read it, watchlists and webhooks."""
