"""CSV import of organisations and people: all rows or none."""
