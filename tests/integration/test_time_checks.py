"""Times that are refused instead of stored: time off that has ended, is a
copy of a span the rep has, or is absurdly long or far away; leap seconds
wherever a time is read; a manual clock past the year 9999. Each refusal is
a 422 naming the field, and nothing changes."""

from conftest import assert_error

NOW = "2026-11-24T09:00:00Z"  # the manual clock's start

CONFIG = """\
version: 1
reps:
  - {id: ana, name: Ana}
"""


def start(baton_factory, clock=NOW):
    b = baton_factory(config=CONFIG, started=False)
    b.start(extra_args=("--manual-clock", clock))
    return b


def time_off(b, **body):
    return b.request("POST", "/v1/reps/ana/time-off", body=body)


def spans(b):
    st, _, rep = b.get("/v1/reps/ana")
    assert st == 200, rep
    return [(t["from"], t["to"]) for t in rep["time_off"]]


def test_time_off_entirely_in_the_past_is_refused(baton_factory):
    b = start(baton_factory)
    for to in ("2026-11-20T00:00:00Z", "2026-11-24T09:00:00Z"):  # ended, or ends now
        st, _, err = time_off(b, **{"from": "2026-11-10T00:00:00Z", "to": to})
        assert_error(st, err, 422, "invalid", "to")
        assert "to must be in the future" in err["error"]["message"]
    assert spans(b) == []
    # a span that has started but not ended is fine
    st, _, rep = time_off(b, **{"from": "2026-11-23T00:00:00Z", "to": "2026-11-25T00:00:00Z"})
    assert st == 201, rep
    assert rep["ineligible_because"] == "time_off"


def test_an_exact_copy_of_a_span_is_refused_with_its_id(baton_factory):
    b = start(baton_factory)
    span = {"from": "2026-12-21T00:00:00Z", "to": "2027-01-04T00:00:00Z"}
    st, _, rep = time_off(b, reason="winter", **span)
    assert st == 201, rep
    first = rep["time_off_added"]["id"]
    # the same instants written another way are the same span
    st, _, err = time_off(b, **{"from": "2026-12-21T01:00:00+01:00",
                                "to": "2027-01-04T00:00:00.000Z"}, reason="again")
    assert_error(st, err, 422, "invalid", "from")
    assert "the same span exists: time off %d" % first in err["error"]["message"]
    assert spans(b) == [("2026-12-21T00:00:00.000Z", "2027-01-04T00:00:00.000Z")]
    # overlapping but different spans are allowed
    st, _, rep = time_off(b, **{"from": "2026-12-21T00:00:00Z", "to": "2027-01-05T00:00:00Z"})
    assert st == 201, rep


def test_time_off_longer_than_366_days_or_far_ahead_is_refused(baton_factory):
    b = start(baton_factory)
    st, _, err = time_off(b, **{"from": "2026-12-01T00:00:00Z", "to": "9999-12-31T00:00:00Z"})
    assert_error(st, err, 422, "invalid", "to")
    assert "at most 366 days" in err["error"]["message"]
    st, _, err = time_off(b, **{"from": "2026-12-01T00:00:00Z", "to": "2027-12-03T00:00:00Z"})
    assert_error(st, err, 422, "invalid", "to")
    # a typo in the year: a week in 9026
    st, _, err = time_off(b, **{"from": "9026-12-01T00:00:00Z", "to": "9026-12-08T00:00:00Z"})
    assert_error(st, err, 422, "invalid", "from")
    assert "at most 1830 days" in err["error"]["message"]
    assert spans(b) == []
    # exactly 366 days is accepted
    st, _, rep = time_off(b, **{"from": "2026-12-01T00:00:00Z", "to": "2027-12-02T00:00:00Z"})
    assert st == 201, rep


def test_a_leap_second_is_refused_wherever_a_time_is_read(baton_factory):
    b = start(baton_factory)
    st, _, err = time_off(b, **{"from": "2026-12-01T00:00:60Z", "to": "2026-12-02T00:00:00Z"})
    assert_error(st, err, 422, "invalid", "from")
    assert spans(b) == []
    st, _, err = b.request("PUT", "/v1/reps/ana/status",
                           body={"status": "away", "until": "2026-12-31T23:59:60Z"})
    assert_error(st, err, 422, "invalid", "until")
    st, _, body = b.post_lead({"email": "a@example.com"})
    assert st == 201
    lead_id = body["lead"]["id"]
    st, _, err = b.request("POST", "/v1/leads/%d/activities" % lead_id,
                           body={"type": "page_view", "occurred_at": "2026-11-24T08:00:60Z"})
    assert st == 422 and "occurred_at" in err["error"]["field"], err
    st, _, err = b.get("/v1/leads?created_after=2026-11-24T08:00:60Z")
    assert_error(st, err, 400, "invalid", "created_after")
    st, _, rep = b.get("/v1/reps/ana")
    assert rep["status"] == "available"
    assert b.running()


# ---- the manual clock ----

def clock(b, body):
    return b.request("POST", "/v1/admin/clock", body=body)


def clock_now(b):
    st, _, body = clock(b, {"advance_seconds": 0})
    assert st == 200, body
    return body["now"]


def test_the_clock_refuses_bad_moves_with_a_message_for_each(baton_factory):
    b = start(baton_factory)
    cases = [
        ({"advance_seconds": -1}, "advance_seconds", "advance_seconds must be 0 or more"),
        ({"advance_seconds": -0.5}, "advance_seconds", "advance_seconds must be 0 or more"),
        ({"advance_seconds": "60"}, "advance_seconds", "must be a number of seconds"),
        ({"now": "2026-11-24T08:59:59Z"}, "now", "the clock never moves backwards"),
        ({"now": "2026-11-24T10:00:60Z"}, "now", "now must be an RFC 3339 time"),
        ({"now": "9999-12-31T23:59:59.999-01:00"}, "now", "at most 9999-12-31T23:59:59.999Z"),
        ({"now": "tomorrow"}, "now", "now must be an RFC 3339 time"),
        ({"later": 5}, None, 'send {"now"'),
    ]
    for body, field, message in cases:
        st, _, err = clock(b, body)
        assert_error(st, err, 422, "invalid", field)
        assert message in err["error"]["message"], (body, err)
    assert clock_now(b) == "2026-11-24T09:00:00.000Z"


def test_the_clock_stops_at_the_last_instant_baton_can_write(baton_factory):
    b = start(baton_factory, clock="9999-12-31T00:00:00Z")
    st, _, err = clock(b, {"advance_seconds": 86400})
    assert_error(st, err, 422, "invalid", "advance_seconds")
    assert "the clock cannot go past 9999-12-31T23:59:59.999Z" in err["error"]["message"]
    assert clock_now(b) == "9999-12-31T00:00:00.000Z"
    st, _, body = clock(b, {"now": "9999-12-31T23:59:59.999Z"})
    assert st == 200 and body["now"] == "9999-12-31T23:59:59.999Z", body
    st, _, err = clock(b, {"advance_seconds": 0.001})
    assert_error(st, err, 422, "invalid", "advance_seconds")
    assert clock_now(b) == "9999-12-31T23:59:59.999Z"
