"""learning — the MOOC, the 2019 webinar series, their replays, podcast feeds and learner progress."""

__version__ = "0.1.0"
