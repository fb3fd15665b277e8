"""Podcast-app sync: app passwords, Nextcloud Login Flow v2, gpoddersync and the gpodder.net API v2 subset."""
