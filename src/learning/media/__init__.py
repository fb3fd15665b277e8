"""Media assets: import into the object store, probing, delivery."""
