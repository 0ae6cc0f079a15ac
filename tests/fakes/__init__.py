"""Local fake HTTP APIs (127.0.0.1 only) for the source tests."""
