"""Login accounts, roles per organisation, authentication."""
