"""One module per entity page, each a short declaration over the framework."""
