"""Core: types, the exception tree, configuration, the clock and the database base."""
