"""Payment providers behind one small interface (`providers.PaymentProvider`): create a
payment, verify a webhook, refund, cancel. Answers are neutral (`PaymentEvent`, `Outcome`,
`Created`, a refund reference); only an adapter (`stripe_provider`) knows its provider's
shapes. Ordering decides what an answer does to an order.

May import: the platform only.
"""
