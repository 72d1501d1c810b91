# WaitlistEntry arrives with the waitlist issue; see docs/architecture.md §1.
