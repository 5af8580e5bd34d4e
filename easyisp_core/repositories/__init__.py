"""All SQL lives here. Repositories take a Session and never commit."""
