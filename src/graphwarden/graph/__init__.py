"""The social graph: people, friendships, pages and likes, per-field audiences and settings."""
