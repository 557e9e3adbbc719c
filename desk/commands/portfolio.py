"""`desk portfolio ACTION`: the capital layer from the command line (one module per action)."""

from __future__ import annotations

import argparse
import importlib


def run(args: argparse.Namespace) -> int:
    action = args.portfolio_command.replace("-", "_")
    return int(importlib.import_module(f"desk.commands.portfolio_{action}").run(args) or 0)
