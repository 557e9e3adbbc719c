"""`desk audit export|verify|pubkey`: thin wrappers over store.audit_export / audit_verify."""

from __future__ import annotations

import argparse
from pathlib import Path

EXIT_OK = 0
EXIT_FAILED = 1


def _resolve(args: argparse.Namespace) -> tuple[Path, Path]:
    """(database path, audit key path): --db, else [store] path, else the XDG default; the
    key from [audit] key_path, else the XDG default."""
    from engine.config.schema import load_config
    from store.paths import default_audit_key_path, default_db_path

    cfg = load_config(args.config)
    if args.db:
        db = Path(args.db)
    else:
        db = Path(cfg.store.path) if cfg.store.path else default_db_path()
    key = Path(cfg.audit.key_path) if cfg.audit.key_path else default_audit_key_path()
    args.checkpoint_every = cfg.audit.checkpoint_every  # what an export records if none is
    return db, key


def run(args: argparse.Namespace) -> int:
    """Any failure is one line on stderr and exit 1, never a traceback: the library names
    the place; the last resort below covers what it did not foresee (a damaged file can
    raise from deep inside sqlite3 or json)."""
    import sqlite3

    from store.errors import StoreError

    try:
        return _run(args)
    except StoreError:
        raise  # already one line; desk.cli prints it
    except RecursionError:
        raise StoreError(f"audit {args.audit_command}: input nested too deeply") from None
    except (sqlite3.Error, OSError, UnicodeError, ValueError, MemoryError) as error:
        text = str(error).splitlines()[0][:200] if str(error) else type(error).__name__
        raise StoreError(f"audit {args.audit_command}: {text}") from None


def _run(args: argparse.Namespace) -> int:
    db, key = _resolve(args)
    if args.audit_command == "export":
        return _export(args, db, key)
    if args.audit_command == "verify":
        return _verify(args, db, key)
    if args.audit_command == "pubkey":
        from store.signing import AuditSigner

        print(AuditSigner(key).public_key_b64())
        return EXIT_OK
    raise ValueError(f"unknown audit command {args.audit_command!r}")


def _export(args: argparse.Namespace, db: Path, key: Path) -> int:
    from desk.commands.output_paths import check_output_path
    from store.audit_export import export_audit

    check_output_path(args.out, "--out")  # before the chain is read and a head signed

    summary = export_audit(
        db,
        args.out,
        from_seq=args.from_seq,
        to_seq=args.to_seq,
        fmt=args.format,
        key_path=key,
        checkpoint_every=args.checkpoint_every,
    )
    print(
        f"exported {summary.entries} entries (seq {summary.first_seq}..{summary.last_seq}) "
        f"to {summary.path}"
    )
    print(f"checkpoint {summary.checkpoint.seq}:{summary.checkpoint.hash}")
    print(f"public key {summary.public_key}")
    return EXIT_OK


def _verify(args: argparse.Namespace, db: Path, key: Path) -> int:
    from store.audit_verify import verify_db, verify_export

    if args.file:
        result = verify_export(args.file, pubkey_b64=args.pubkey, anchor=args.anchor)
    else:
        result = verify_db(db, pubkey_b64=args.pubkey, anchor=args.anchor, key_path=key)
    print(result.summary())
    for note in result.notes:
        print(f"note: {note}")
    return EXIT_OK if result.ok else EXIT_FAILED
