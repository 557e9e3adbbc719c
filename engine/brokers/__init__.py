"""Brokers: the `Broker` port (base.py) and its adapters (paper.py; live ones elsewhere).

Kept light: import the adapter you need from its module.
"""
