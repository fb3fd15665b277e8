"""Learner progress: enrollments (progress events, resume points and xAPI come next)."""
