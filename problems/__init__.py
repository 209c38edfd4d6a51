"""The problem library: importing this package registers every problem by name."""
