"""Registrations for upcoming webinar sessions: a learner registers, gets a confirmation with the event attached,
reminders before it, a notice when it moves or is cancelled and when its replay is out; every message carries a
signed link that unregisters without signing in; admins see who registered and who attended."""
