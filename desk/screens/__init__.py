"""The desk's screens: the main desk, and the modals it opens."""
