"""docs/openapi.yaml against the server itself: the route table and the
description name the same operations with the same roles, the daemon serves
the description it was built with at GET /v1/openapi.json (no key), and
`baton api` prints both. (Every reply of every other test is checked against
the description by conftest's client: contract.py.)"""

import json
import re

import contract
from conftest import run_baton


def _normal(template):
    return re.sub(r"\{[^}]+\}", "{}", template)


def server_routes():
    r = run_baton("api", "routes")
    assert r.returncode == 0, r.stderr
    routes = {}
    for line in r.stdout.splitlines():
        method, path, roles = line.split(None, 2)
        roles = [] if roles.strip() == "none" else [x.strip() for x in roles.split(",")]
        routes[(method, _normal(path))] = sorted(roles)
    assert routes, r.stdout
    return routes


def described():
    out = {}
    for template, item in contract.SPEC["paths"].items():
        for m in contract.METHODS:
            if m in item:
                out[(m.upper(), _normal(template))] = item[m]
    return out


def test_every_route_is_described_and_every_description_is_a_route():
    served, spec = server_routes(), described()
    missing = sorted(set(served) - set(spec))
    extra = sorted(set(spec) - set(served))
    assert not missing, "routes missing from docs/openapi.yaml: %s" % missing
    assert not extra, "operations in docs/openapi.yaml the server does not have: %s" % extra


def test_each_operation_names_the_roles_the_server_enforces():
    served, spec = server_routes(), described()
    for key, roles in served.items():
        op = spec[key]
        assert sorted(op.get("x-baton-roles", [])) == roles, (key, op.get("x-baton-roles"), roles)
        if roles:
            assert op.get("security", contract.SPEC.get("security")), key
        else:
            assert op.get("security") == [], "%s needs no key: security: []" % (key,)


def test_every_operation_has_an_id_and_its_errors():
    for key, op in described().items():
        assert op.get("operationId"), key
        responses = op.get("responses", {})
        assert any(s.startswith("2") or s.startswith("3") for s in responses), key
        if op.get("x-baton-roles"):
            assert "401" in responses and "403" in responses, key


def test_the_daemon_serves_the_description_it_was_built_with(baton):
    st, headers, body = baton.request("GET", "/v1/openapi.json", key=None)
    assert st == 200 and headers["content-type"] == "application/json"
    assert body == contract.SPEC
    assert body["openapi"].startswith("3.1")
    # a key does not change it; a bad one does not hurt
    st, _, again = baton.request("GET", "/v1/openapi.json", key="garbage")
    assert st == 200 and again == body


def test_baton_api_prints_the_same():
    r = run_baton("api", "description")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == contract.SPEC
    r = run_baton("api", "--help")
    assert r.returncode == 0 and "routes" in r.stdout
    r = run_baton("api", "nonsense")
    assert r.returncode == 2 and "unknown subcommand" in r.stderr
    r = run_baton("api")
    assert r.returncode == 2 and "usage" in r.stderr
