"""Database layer: declarative base, models and session factory."""
