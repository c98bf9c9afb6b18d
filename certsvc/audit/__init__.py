"""The audit log: append-only, hash-chained evidence of every state change."""
