"""What every console page builds on: background workers and the GUI-thread guard."""
