"""The signing agent (``token-agent serve``) on a user's PC: its pairing with an account, the one-time jobs the
document pages hand it, and the API it calls (docs/agent-protocol.md)."""
