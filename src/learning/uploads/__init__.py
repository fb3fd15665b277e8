"""Admin uploads of replays: resumable (tus 1.0.0) and small side files."""
