"""Real venues behind the broker and feed ports."""
