"""`desk train`: cross-validate and store a predictive filter's model; `--list` the stored.

    desk train --data SOURCE [--symbol S] --model NAME [--horizon N] [--start DATE]
               [--end DATE] [--select-features K] [--json PATH]
    desk train --list

NAME: lightgbm | random_forest | logistic (direction), garch | vol_lightgbm |
vol_random_forest (volatility), volume (`engine.signals.filters.training`).
"""

from __future__ import annotations

import argparse
import json
import sys

from rich.console import Console
from rich.table import Table

CLASSIFIER_COLUMNS = (("accuracy", "Accuracy"), ("balanced_accuracy", "Bal. acc."),
                      ("log_loss", "Log loss"))
VOLATILITY_COLUMNS = (("qlike", "QLIKE"), ("mse", "MSE"))


def run(args: argparse.Namespace) -> int:
    from engine.config.schema import apply_cli_overrides, load_config

    cfg = apply_cli_overrides(load_config(args.config), args)
    console = Console()
    if args.list:
        return _list(cfg, console)
    if not args.data or not args.model:
        print("desk: train needs --data SOURCE and --model NAME (or --list)", file=sys.stderr)
        return 2
    if args.json:
        from desk.commands.output_paths import check_output_path

        check_output_path(args.json, "--json")
    from desk.commands.backtest import _DelayedProgress
    from engine.signals.filters.training import TrainOptions, train

    options = TrainOptions(data=args.data, model=args.model, symbol=args.symbol,
                           horizon=args.horizon, start=args.start, end=args.end,
                           select_features=args.select_features)
    progress = _DelayedProgress(console)
    try:
        outcome = train(cfg, options, progress=progress)
    finally:
        progress.close()
    print_report(console, outcome)
    if args.json:
        from desk.commands.output_paths import write_atomically

        write_atomically(args.json, json.dumps(document(outcome), indent=2) + "\n",
                         option="--json")
    return 0


def document(outcome) -> dict:
    return {"name": outcome.name, "kind": outcome.kind, "model": outcome.model_type,
            "symbol": outcome.symbol, "source": outcome.source,
            "data_range": list(outcome.data_range), "data_sha256": outcome.data_sha256,
            "features": list(outcome.features), "file_sha256": outcome.file_sha256,
            "cv": outcome.report}


def _columns(report: dict) -> tuple:
    return VOLATILITY_COLUMNS if "qlike" in report["overall"]["model"] else CLASSIFIER_COLUMNS


def print_report(console: Console, outcome) -> None:
    from engine.signals.filters.training import train_name

    report = outcome.report
    columns = _columns(report)
    # Named as --model names it: a volatility regressor's type alone reads as a classifier's.
    model = train_name(outcome.kind, outcome.model_type)
    table = Table(title=f"{model} on {outcome.source} {outcome.symbol}:"
                  f" {len(report['folds'])}-fold time-series CV, model vs baseline",
                  header_style="bold")
    for title in ("Fold", "Train rows", "Test rows", "Row"):
        table.add_column(title, justify="left" if title in ("Fold", "Row") else "right")
    for _, title in columns:
        table.add_column(title, justify="right")
    rows = [*report["folds"], {"fold": "all", **report["overall"]}]
    for entry in rows:
        train = entry.get("train_rows")
        test = entry.get("test_rows")
        for who in ("model", "baseline", "regressor", "garch"):
            if who not in entry:
                continue
            scores = entry[who]
            first = who == "model"
            table.add_row(str(entry["fold"]) if first else "",
                          f"{train[0]}–{train[1]}" if first and train else "",
                          f"{test[0]}–{test[1]}" if first and test else "", who,
                          *(_number(scores[key]) for key, _ in columns))
    console.print(table)
    if columns is CLASSIFIER_COLUMNS:
        _print_per_class(console, report["overall"])
    if "features" in report:
        for fold in report["folds"]:
            console.print(f"fold {fold['fold']} features (ranked on its training rows):"
                          f" {', '.join(fold['features'])}", style="dim")
        console.print(f"stored model's features (ranked on all rows):"
                      f" {', '.join(report['features'])}")
    for who in ("model", "baseline", "regressor", "garch"):
        if f"{who}_kind" in report:
            console.print(f"{who}: {report[f'{who}_kind']}", style="dim")
    console.print(f"stored model {outcome.name} (id {outcome.model_id}), trained on"
                  f" {outcome.data_range[0][:10]} .. {outcome.data_range[1][:10]},"
                  f" {report['rows']:,} rows; file SHA-256 {outcome.file_sha256[:16]}…")


def _print_per_class(console: Console, overall: dict) -> None:
    """Precision and recall per class, all folds' test rows pooled."""
    classes = [k[len("precision_"):] for k in overall["model"] if k.startswith("precision_")]
    table = Table(title="Per class, all folds pooled", header_style="bold")
    for title in ("Class", "Precision", "(baseline)", "Recall", "(baseline)"):
        table.add_column(title, justify="left" if title == "Class" else "right")
    model, base = overall["model"], overall["baseline"]
    for name in classes:
        table.add_row(name, _number(model[f"precision_{name}"]),
                      _number(base[f"precision_{name}"]), _number(model[f"recall_{name}"]),
                      _number(base[f"recall_{name}"]))
    console.print(table)


def _number(value: float) -> str:
    if abs(value) >= 1e-3 or value == 0:
        return f"{value:.4f}"
    return f"{value:.3e}"


def _list(cfg, console: Console) -> int:
    from engine.adapters.sqlite.models import stored_models
    from engine.adapters.sqlite.open import open_store

    store = open_store(cfg)
    try:
        models = stored_models(store)
    finally:
        store.close()
    if not models:
        console.print("no stored models: train one with desk train --data SOURCE --model NAME")
        return 0
    table = Table(title="Stored models", header_style="bold")
    for title in ("Id", "Name", "Kind", "Type", "Symbol", "Trained on", "CV (model / base)"):
        table.add_column(title)
    for m in models:
        cv = json.loads(m["cv_json"])
        key = "log_loss" if "log_loss" in cv["model"] else "qlike"
        table.add_row(str(m["id"]), m["name"], m["kind"], m["model_type"], m["symbol"],
                      f"{m['data_start'][:10]} .. {m['data_end'][:10]}",
                      f"{key} {_number(cv['model'][key])} / {_number(cv['baseline'][key])}")
    console.print(table)
    return 0
