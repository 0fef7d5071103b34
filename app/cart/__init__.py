"""Carts: a signed-in customer's and a guest's (by cart token), their lines, totals and the
merge of a guest cart into a user's at sign-in.

May import: catalog, accounts, the platform.
"""
