"""The commands besides `serve`'s HTTP API: what they refuse and what they
leave behind. A mistake (a mistyped path, an unknown rep, a port in use)
is a clear error on stderr, and nothing is created or written."""

import os

from conftest import run_baton


def write(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


# ---- only serve (or an explicit --create) makes a database ----

def test_commands_refuse_a_missing_database_and_create_nothing(tmp_path):
    typo = str(tmp_path / "typo.db")
    csv = str(tmp_path / "accounts.csv")
    write(csv, "name,domains\nAcme,acme.com\n")
    for args, hint in [
        (["keys", "list", "--db", typo], "baton serve creates it"),
        (["keys", "revoke", "--db", typo, "1"], "baton serve creates it"),
        (["keys", "create", "--db", typo, "--role", "admin"],
         "baton serve creates it, or pass --create"),
        (["import", "accounts", csv, "--db", typo, "--quiet"],
         "baton serve creates it, or pass --create"),
    ]:
        r = run_baton(*args)
        assert r.returncode == 1, (args, r.stderr)
        assert "no database at %s; %s" % (typo, hint) in r.stderr, (args, r.stderr)
        assert r.stdout == "", args
        assert sorted(os.listdir(tmp_path)) == ["accounts.csv"], args


def test_the_default_database_is_not_created_either(tmp_path):
    r = run_baton("keys", "list", cwd=str(tmp_path))
    assert r.returncode == 1
    assert "no database at ./baton.db; baton serve creates it" in r.stderr
    write(str(tmp_path / "a.csv"), "name,domains\nAcme,acme.com\n")
    r = run_baton("import", "accounts", "a.csv", "--quiet", cwd=str(tmp_path))
    assert r.returncode == 1
    assert "no database at ./baton.db" in r.stderr
    assert os.listdir(tmp_path) == ["a.csv"]


def test_create_makes_a_new_database_for_keys_and_import(tmp_path):
    db = str(tmp_path / "new.db")
    r = run_baton("keys", "create", "--db", db, "--create", "--role", "ingest", "--name", "web")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("bt_")
    r = run_baton("keys", "list", "--db", db)
    assert r.returncode == 0 and " web " in r.stdout

    db2 = str(tmp_path / "accounts.db")
    csv = str(tmp_path / "accounts.csv")
    write(csv, "name,domains\nAcme,acme.com\n")
    r = run_baton("import", "accounts", csv, "--db", db2, "--create")
    assert r.returncode == 0, r.stderr
    assert "imported 1 account: 1 created" in r.stdout
    # the database exists now: the next import needs no --create
    r = run_baton("import", "accounts", csv, "--db", db2)
    assert r.returncode == 0, r.stderr
    assert "1 unchanged" in r.stdout


def test_create_is_only_for_keys_create(tmp_path):
    db = str(tmp_path / "x.db")
    r = run_baton("keys", "list", "--db", db, "--create")
    assert r.returncode == 2
    assert "--create is only for 'keys create'" in r.stderr
    assert os.listdir(tmp_path) == []
