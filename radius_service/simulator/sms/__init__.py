"""A double of Africa's Talking (and the Advanta/Celcom API family) for tests and the demo."""
