"""An ingest key is public (it sits in a web page): it must not learn
whether a person is a lead, nor act on a lead by its id; rep keys must not
learn which rep ids exist."""

from conftest import assert_error

START = "2026-11-21T09:00:00Z"

CONFIG = """\
version: 1
scoring:
  engagement:
    - {name: Demo, activity: demo_request, points: 50}
qualification:
  fast_track_when: activity.demo_request.count > 0
"""


def start(baton_factory, config=CONFIG):
    b = baton_factory(config=config, started=False)
    b.start(extra_args=("--manual-clock", START))
    return b


def snapshot(b):
    """Everything a write could change: every lead with its events and
    activities."""
    out = []
    for lead in b.list_leads():
        _, _, acts = b.get("/v1/leads/%d/activities" % lead["id"])
        out.append((lead, b.events(lead["id"]), acts["data"]))
    return out


def test_ingest_key_may_not_act_on_a_lead_by_id(baton_factory):
    b = start(baton_factory)
    st, _, body = b.post_lead({"email": "ceo@victim.example", "title": "CEO"})
    assert st == 201
    lead_id = body["lead"]["id"]
    before = snapshot(b)
    ingest = b.create_key("ingest", name="website")
    for path in ("/v1/leads/%d/activities" % lead_id, "/v1/leads/999/activities",
                 "/v1/leads/x/activities"):
        for payload in ({"type": "demo_request"},
                        {"activities": [{"type": "demo_request"}, {"type": "pricing_view"}]},
                        {"type": "BAD TYPE"}, "not json"):
            st, _, err = b.request("POST", path, body=payload, key=ingest)
            assert_error(st, err, 403, "forbidden", None)
            assert "by email" in err["error"]["message"], err
            assert "POST /v1/activities" in err["error"]["message"], err
    # nothing written: the lead was not qualified, nothing recorded
    assert snapshot(b) == before
    assert before[0][0]["stage"] == "new"
    # the admin key still may (the CRM integration)
    st, _, body = b.request("POST", "/v1/leads/%d/activities" % lead_id,
                            body={"type": "demo_request"})
    assert st == 201, body
    assert body["leads"][0]["stage"] == "mql"
    # a rep key gets the general message
    rep = b.create_key("rep", rep="ana")
    st, _, err = b.request("POST", "/v1/leads/%d/activities" % lead_id, body={"type": "x"},
                           key=rep)
    assert_error(st, err, 403, "forbidden", None)
    assert "role 'rep'" in err["error"]["message"], err
