"""Registries of certificates and key-storage tokens (USB tokens)."""
