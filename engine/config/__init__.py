"""Configuration: desk.toml read into one typed, frozen `Config` (schema.py), every value
checked with a one-line error naming the file and key (checks.py)."""
