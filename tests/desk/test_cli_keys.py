"""`desk keys` run as a user would: a subprocess fed through stdin, secrets never shown."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

KEY, SECRET, PASSWORD = "key-AAAA1111", "secret-BBBB2222", "password-CCCC3333"
PASS = "vault-passphrase-DDDD4444"


def desk(*argv: str, stdin: str = "", passphrase: str | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)  # carries the per-test XDG directories
    env.pop("DESK_VAULT_PASSPHRASE", None)
    if passphrase is not None:
        env["DESK_VAULT_PASSPHRASE"] = passphrase
    return subprocess.run(
        [sys.executable, "-m", "desk.cli", *argv],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        # No controlling terminal: nothing may be read from /dev/tty behind our back.
        start_new_session=True,
    )


def secrets_absent(*texts: str) -> bool:
    return not any(s in t for t in texts for s in (KEY, SECRET, PASSWORD, PASS))


def test_set_list_delete_with_the_passphrase_from_the_environment(tmp_path):
    stored = desk("keys", "set", "binance", "--db", "desk.db",
                  stdin=f"{KEY}\n{SECRET}\n{PASSWORD}\n", passphrase=PASS)
    listed = desk("keys", "list", "--db", "desk.db")
    deleted = desk("keys", "delete", "binance", "--db", "desk.db", passphrase=PASS)
    again = desk("keys", "delete", "binance", "--db", "desk.db", passphrase=PASS)
    empty = desk("keys", "list", "--db", "desk.db")

    assert (stored.returncode, stored.stdout) == (0, "stored keys for binance\n")
    assert "API secret for binance:" in stored.stderr
    assert (listed.returncode, listed.stdout) == (0, "binance\n")
    assert (deleted.returncode, deleted.stdout) == (0, "deleted keys for binance\n")
    assert (again.returncode, again.stderr) == (1, "desk: no keys stored for binance\n")
    assert (empty.returncode, empty.stdout) == (0, "no keys stored\n")
    runs = (stored, listed, deleted, again, empty)
    assert secrets_absent(*(r.stdout + r.stderr for r in runs))


def test_first_set_asks_the_passphrase_twice_and_secrets_stay_encrypted(tmp_path):
    from store.db import Store
    from store.vault import ApiCredentials, Vault

    mismatch = desk("keys", "set", "kraken", "--db", "desk.db", stdin=f"{PASS}\nother\n")
    stored = desk("keys", "set", "kraken", "--db", "desk.db",
                  stdin=f"{PASS}\n{PASS}\n{KEY}\n{SECRET}\n\n")

    assert (mismatch.returncode, mismatch.stderr.splitlines()[-1]) == (
        1, "desk: the passphrases do not match")
    assert stored.returncode == 0, stored.stderr
    assert stored.stderr.count("passphrase: ") == 2
    assert secrets_absent(stored.stdout, stored.stderr, mismatch.stdout, mismatch.stderr)
    database_bytes = b"".join(p.read_bytes() for p in tmp_path.glob("desk.db*"))
    assert database_bytes and all(
        s.encode() not in database_bytes for s in (KEY, SECRET, PASS)
    )
    with Store.open(tmp_path / "desk.db") as store:
        assert Vault(store.conn).get("kraken", PASS) == ApiCredentials(KEY, SECRET, None)


def test_wrong_passphrase_stops_before_asking_for_the_keys(tmp_path):
    desk("keys", "set", "binance", "--db", "desk.db", stdin=f"{KEY}\n{SECRET}\n\n",
         passphrase=PASS)

    wrong = desk("keys", "set", "kraken", "--db", "desk.db", stdin="k\ns\n\n", passphrase="nope")

    assert wrong.returncode == 1
    assert wrong.stderr == "desk: wrong passphrase for the key vault\n"
    assert desk("keys", "list", "--db", "desk.db").stdout == "binance\n"


def test_database_path_comes_from_the_config_when_no_db_flag(tmp_path):
    Path("desk.toml").write_text('[store]\npath = "from-config.db"\n')

    stored = desk("keys", "set", "okx", stdin=f"{KEY}\n{SECRET}\n{PASSWORD}\n", passphrase=PASS)

    assert stored.returncode == 0, stored.stderr
    assert (tmp_path / "from-config.db").is_file()
    assert not (tmp_path / "xdg-data" / "desk" / "desk.db").exists()


def test_listing_without_a_database_creates_none(tmp_path):
    listed = desk("keys", "list")

    assert (listed.returncode, listed.stdout) == (0, "no keys stored\n")
    assert not (tmp_path / "xdg-data" / "desk" / "desk.db").exists()


def test_bad_config_stops_keys_with_one_line_and_exit_2(tmp_path):
    Path("bad.toml").write_text("[risk]\nmax_position_pct = 1.5\n")

    result = desk("keys", "list", "--config", "bad.toml")

    assert result.returncode == 2
    assert result.stderr == (
        "desk: bad.toml: [risk] max_position_pct: expected a number in (0, 1], got 1.5\n"
    )
    assert result.stdout == ""


def test_delete_requires_the_passphrase_that_decrypts_the_entry(tmp_path):
    desk("keys", "set", "binance", "--db", "desk.db", stdin=f"{KEY}\n{SECRET}\n\n",
         passphrase=PASS)
    wrong = desk("keys", "delete", "binance", "--db", "desk.db", passphrase="guess")
    no_input = desk("keys", "delete", "binance", "--db", "desk.db")  # stdin is empty
    listed = desk("keys", "list", "--db", "desk.db")
    typed = desk("keys", "delete", "binance", "--db", "desk.db", stdin=f"{PASS}\n")

    assert (wrong.returncode, wrong.stderr) == (1, "desk: wrong passphrase for the key vault\n")
    assert no_input.returncode == 1 and "Vault passphrase" in no_input.stderr
    assert listed.stdout == "binance\n"  # neither attempt deleted anything
    assert (typed.returncode, typed.stdout) == (0, "deleted keys for binance\n")
    assert secrets_absent(*(r.stdout + r.stderr for r in (wrong, no_input, listed, typed)))


def test_keys_list_writes_nothing_and_signs_nothing(tmp_path):
    """A desk that crashed leaves entries no checkpoint covers; `keys list` must not sign
    them (nor migrate, nor touch the file)."""
    import sqlite3

    from store.db import Store

    key = tmp_path / "config" / "desk" / "audit_ed25519.pem"
    store = Store.open(tmp_path / "desk.db", audit_key_path=key)
    store.audit.append("engine.started", "system", {})
    store.audit.append("order.proposed", "engine", {})
    store.close(checkpoint=False)  # as after a crash: the head is unsigned
    db = tmp_path / "desk.db"
    heads = key.with_name(key.name + ".heads")
    before = (db.read_bytes(), db.stat().st_mtime_ns, heads.read_bytes())
    env_home = {"XDG_CONFIG_HOME": str(tmp_path / "config")}
    listed = subprocess.run([sys.executable, "-m", "desk.cli", "keys", "list", "--db", "desk.db"],
                            capture_output=True, text=True, env=dict(os.environ, **env_home),
                            timeout=60)
    assert (listed.returncode, listed.stdout) == (0, "no keys stored\n"), listed.stderr
    assert (db.read_bytes(), db.stat().st_mtime_ns, heads.read_bytes()) == before
    with sqlite3.connect(db) as conn:
        # Only the checkpoint that opened the log; the second entry stays unsigned.
        assert conn.execute("SELECT seq FROM audit_checkpoints").fetchall() == [(1,)]
        assert conn.execute("SELECT COUNT(*) FROM audit_entries").fetchone()[0] == 2
