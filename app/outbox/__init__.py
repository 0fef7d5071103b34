"""The transactional outbox and its one engine.

`events.emit` writes an event in the caller's transaction; `dispatch` fans events out to
webhook deliveries and emails; `engine` claims due rows under a lease, schedules the next
attempt with jitter and gives up (deliveries, emails and payment actions all run on it);
`deliveries` and `destinations` post webhooks to vetted addresses; `mail` queues and sends
emails.

May import: the platform only.
"""
