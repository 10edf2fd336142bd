"""Package data: stylesheet, icons and judge configurations (read with importlib.resources)."""
