"""Background work: the worker loop and its tasks."""
