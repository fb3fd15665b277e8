"""Podcast and Atom feeds: immutable feed values, rendered to RSS 2.0 (iTunes, Podcasting 2.0) and Atom 1.0."""
