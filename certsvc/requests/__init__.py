"""Certificate requests: the five request types, their lifecycle, the focal office's review and batches."""
