"""Accounts: users, sign-up and sign-in, password hashing and reset, refresh token families,
roles and permissions, staff management, and the customer's address book.

May import: audit, outbox (the password-reset email), the platform.
"""
