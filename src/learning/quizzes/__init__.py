"""Self-assessment: a module's quiz (from its content file), attempts scored on the server only, the best score,
and what a required quiz means for the module's completion."""
