"""The audit log's pages: they read the log across every capability, so they sit above them all.

The log itself (recording, the chain) is :mod:`certsvc.audit`, which every capability writes to.
"""
