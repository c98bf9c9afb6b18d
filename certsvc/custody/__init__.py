"""The custody register of "MẬT" tokens: who keeps each organisation token, proven by a hash chain."""
