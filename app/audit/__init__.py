"""The audit log: one entry per staff write, written in the same transaction as the write.

May import: the platform only.
"""
