"""Data exchange with the outside: open-data exports and their downstream consumers."""
