"""People: officials of the organisations, whether or not they have a login account."""
