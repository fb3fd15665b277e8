"""A learner's own account as a whole: everything the site keeps about them, as one JSON document, and deleting
the account. It reads several domains (accounts, progress, registrations), so it sits above them."""
