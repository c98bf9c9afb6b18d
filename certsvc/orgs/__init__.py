"""Organisations: the tree of People's Committees, their offices and agencies, and focal offices."""
