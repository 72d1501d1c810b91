# Reminder and Notification (the outbox) arrive with the reminders issue; see DESIGN §1 and §5.
