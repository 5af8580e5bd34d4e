"""A faithful HTTP double of Safaricom Daraja (protocols.md §1 and §8) for tests and the demo."""
