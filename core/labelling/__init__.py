"""Labelling: the blind randomised queue, the session use cases and their live statistics."""
