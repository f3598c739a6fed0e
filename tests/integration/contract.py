"""The contract: every reply the suite's HTTP client receives is checked
against docs/openapi.yaml (status, the headers it requires, the body's JSON
schema), with Debian's python3-jsonschema, so that a reply the description
does not promise fails the test that got it.

A path the description does not have must answer the error object (that is
what an unknown endpoint gets); a documented path with a method it does not
list must answer 405 with the error object.
"""

import os
import re

import jsonschema
import yaml

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SPEC_PATH = os.path.join(REPO_ROOT, "docs", "openapi.yaml")

with open(SPEC_PATH, encoding="utf-8") as f:
    SPEC = yaml.safe_load(f)

METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


def _compile(template):
    parts = re.split(r"(\{[^}]+\})", template)
    rx = "".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts)
    return re.compile("^" + rx + "$")


# Literal paths before templated ones, so that /v1/accounts wins over
# /v1/{x} style templates of the same length.
_PATHS = sorted(((t, _compile(t)) for t in SPEC.get("paths", {})),
                key=lambda p: (p[0].count("{"), -len(p[0])))

_RESOLVER = jsonschema.RefResolver(base_uri="", referrer=SPEC)


def find(path):
    """The description's path template that `path` (no query) matches, or None."""
    for template, rx in _PATHS:
        if rx.match(path):
            return template
    return None


def operation(method, path):
    """(template, operation) for a request; either may be None."""
    template = find(path)
    if template is None:
        return None, None
    return template, SPEC["paths"][template].get(method.lower())


def _validate(schema, body, where):
    validator = jsonschema.Draft202012Validator(schema, resolver=_RESOLVER)
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
    if errors:
        e = errors[0]
        raise AssertionError("%s: the reply does not match docs/openapi.yaml at %s: %s\nbody: %r"
                             % (where, "/".join(str(p) for p in e.absolute_path) or "(root)",
                                e.message, body))


def _error_schema():
    return {"$ref": "#/components/schemas/Error"}


def _response_for(op, status):
    responses = op.get("responses", {})
    for key in (str(status), "%dXX" % (status // 100), "default"):
        if key in responses:
            r = responses[key]
            if "$ref" in r:
                r = _RESOLVER.resolve(r["$ref"])[1]
            return r
    return None


def check(method, url, status, headers, body):
    """Raises AssertionError when the reply is not what the description says."""
    path = url.split("?", 1)[0]
    where = "%s %s -> %d" % (method, url, status)
    template, op = operation(method, path)
    ctype = headers.get("content-type", "").split(";")[0].strip()
    if template is None or op is None:
        want = 404 if template is None else 405
        if status not in (want, 400, 413, 414, 431, 503):
            raise AssertionError("%s: %s is not in docs/openapi.yaml%s" % (
                where, path, "" if template is None else " with this method"))
        if ctype == "application/json":
            _validate(_error_schema(), body, where)
        if status == 405:
            allowed = {m.upper() for m in METHODS if m in SPEC["paths"][template]}
            got = {m.strip() for m in headers.get("allow", "").split(",") if m.strip()}
            if got != allowed:
                raise AssertionError("%s: Allow is %r, docs/openapi.yaml has %s"
                                     % (where, headers.get("allow"), sorted(allowed)))
        return
    resp = _response_for(op, status)
    if resp is None:
        raise AssertionError("%s: status %d is not described for %s %s in docs/openapi.yaml"
                             % (where, status, method.upper(), template))
    for name, h in resp.get("headers", {}).items():
        if "$ref" in h:
            h = _RESOLVER.resolve(h["$ref"])[1]
        if h.get("required") and name.lower() not in headers:
            raise AssertionError("%s: header %s is required by docs/openapi.yaml" % (where, name))
    content = resp.get("content")
    if not content:
        return
    if ctype not in content:
        raise AssertionError("%s: content type %r, docs/openapi.yaml says %s"
                             % (where, ctype, ", ".join(content)))
    schema = content[ctype].get("schema")
    if schema is not None:
        _validate(schema, body, where)


def described_routes():
    """{(METHOD, template)} of the description."""
    out = set()
    for template, item in SPEC.get("paths", {}).items():
        for m in METHODS:
            if m in item:
                out.add((m.upper(), template))
    return out
