"""One submission in, one report out; staff changes replayed on it (pure: no Django)."""
