"""One file per model family; each model's forward returns what its loss needs."""
