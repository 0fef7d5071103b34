"""The catalog: products, categories, search, slugs, and stock.

`inventory` is the only writer of a product's stock and its ledger (stock_movements):
guarded UPDATEs that never oversell. `products.listed()` is what the shop shows.

May import: audit, the platform.
"""
