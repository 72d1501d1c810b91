"""Customer pages (docs/architecture.md §6): server-rendered, CSRF-protected, times in the visitor's zone.

Split along what the customer is doing: browsing (`catalogue`), booking (`booking`) and managing
an existing booking through its private link (`manage`).
"""
