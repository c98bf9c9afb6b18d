"""Pieces shared by every capability: validation of common fields, the base views, health."""
