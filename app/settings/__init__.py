"""What staff configure for the shop: shipping methods, tax rates, discount codes and
webhook subscriptions.

May import: accounts (an address's region), audit, the platform.
"""
