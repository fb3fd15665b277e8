"""Server-rendered pages for learners and admins (templates, static files, cookie sessions)."""
