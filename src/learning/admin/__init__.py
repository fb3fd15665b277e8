"""Admin: composes the other domains' services; owns no tables."""
