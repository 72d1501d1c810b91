# WaitlistEntry arrives with the waitlist issue; see DESIGN §1.
