"""Payments: charges and refunds of bookings, and the gateway work they owe (docs/decisions/0013-payments.md)."""
