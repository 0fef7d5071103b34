"""Ordering: checkout (resolving the address, shipping, tax and discount of a cart), placing
an order in one transaction, its lifecycle, its payment with the provider, and its emails.

`status` is the one writer of an order's status and payment status; `payments` applies what
the provider (app.payments) answers; `bodies.order_body` is the order's JSON, which the API
answers and every order event carries.

May import: cart, catalog, settings, accounts, audit, payments, outbox, the platform.
"""
