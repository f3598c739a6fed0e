/*
 * Baton's dashboard (docs/dashboard.md): one page, no build step. It signs
 * in at POST /ui/session (the server sets an HttpOnly session cookie and
 * answers with the session's CSRF token), then talks to the ordinary API
 * with the cookie, sending the CSRF token in X-Baton-CSRF on every request
 * that changes state. Every value from the server is put in the page as
 * text (textContent), never as HTML.
 *
 * Views, by the location's hash: #/inbox (a rep's pending assignments),
 * #/manager (admin: charts, breaches, holds, reps), #/lead/ID.
 */
(function () {
  "use strict";

  var POLL_MS = 3000;
  var state = { role: null, rep: null, csrf: null };
  var timers = [];
  var reasons = null;

  function $(id) { return document.getElementById(id); }

  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        if (k === "text") e.textContent = attrs[k];
        else if (k === "class") e.className = attrs[k];
        else if (k.slice(0, 2) === "on") e.addEventListener(k.slice(2), attrs[k]);
        else e.setAttribute(k, attrs[k]);
      });
    }
    (children || []).forEach(function (c) {
      if (c !== null && c !== undefined)
        e.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    });
    return e;
  }

  function clearTimers() {
    timers.forEach(function (t) { clearInterval(t); });
    timers = [];
  }

  /* One API call with the session cookie; resolves to {status, body}. */
  function api(method, path, body) {
    var headers = { "Accept": "application/json" };
    if (method !== "GET" && state.csrf) headers["X-Baton-CSRF"] = state.csrf;
    var opts = { method: method, headers: headers, credentials: "same-origin", cache: "no-store" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    return fetch(path, opts).then(function (resp) {
      if (resp.status === 204) return { status: 204, body: null };
      return resp.json().then(function (j) { return { status: resp.status, body: j }; },
                              function () { return { status: resp.status, body: null }; });
    }).then(function (res) {
      if (res.status === 401 && path !== "/ui/session") showSignIn("Your session has ended: sign in again.");
      return res;
    });
  }

  function errorText(res) {
    return res.body && res.body.error ? res.body.error.message : "HTTP " + res.status;
  }

  function leadName(lead) {
    var n = [lead.first_name, lead.last_name].filter(Boolean).join(" ");
    return n || lead.email || "(no name)";
  }

  function fmtSeconds(s) {
    if (s === null || s === undefined) return "–";
    if (s < 60) return s.toFixed(1) + " s";
    if (s < 3600) return (s / 60).toFixed(1) + " min";
    return (s / 3600).toFixed(1) + " h";
  }

  function timeLeft(ms) {
    if (ms <= 0) return "overdue";
    var s = Math.floor(ms / 1000), h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
    s = s % 60;
    return (h ? h + " h " : "") + (h || m ? m + " min " : "") + s + " s left";
  }

  /* Updates every countdown on the page from its data-deadline. */
  function tick() {
    var now = Date.now();
    document.querySelectorAll(".countdown[data-deadline]").forEach(function (c) {
      var left = Date.parse(c.getAttribute("data-deadline")) - now;
      c.textContent = timeLeft(left);
      c.classList.toggle("overdue", left <= 0);
      c.classList.toggle("urgent", left > 0 && left < 5 * 60 * 1000);
    });
  }

  /* ---- sign-in ---- */

  function showSignIn(message) {
    clearTimers();
    state = { role: null, rep: null, csrf: null };
    $("signin").hidden = false;
    $("nav").hidden = true;
    $("logout").hidden = true;
    $("who").textContent = "";
    $("view").textContent = "";
    $("signin-error").textContent = message || "";
  }

  function signedIn(s) {
    state = { role: s.role, rep: s.rep, csrf: s.csrf };
    $("signin").hidden = true;
    $("nav").hidden = false;
    $("logout").hidden = false;
    $("nav-manager").hidden = s.role !== "admin";
    $("nav-inbox").hidden = s.role !== "rep";
    $("who").textContent = s.role === "rep" ? "Signed in as " + s.rep : "Signed in as admin";
    route();
  }

  function onSignIn(ev) {
    ev.preventDefault();
    var key = $("key").value;
    api("POST", "/ui/session", { key: key }).then(function (res) {
      $("key").value = "";
      if (res.status === 200) signedIn(res.body);
      else $("signin-error").textContent = "Sign-in failed: " + errorText(res);
    });
  }

  function onLogout() {
    api("POST", "/ui/logout").then(function () {
      location.hash = "";
      showSignIn("Signed out.");
    });
  }

  /* ---- views ---- */

  function route() {
    clearTimers();
    var view = $("view");
    view.textContent = "";
    var hash = location.hash || "";
    var m = /^#\/lead\/(\d+)$/.exec(hash);
    document.querySelectorAll("header nav a").forEach(function (a) {
      a.classList.toggle("current", a.getAttribute("href") === hash);
    });
    if (m) return leadView(view, m[1]);
    if (state.role === "admin") return managerView(view);
    return inboxView(view);
  }

  function loadReasons() {
    if (reasons) return Promise.resolve(reasons);
    return api("GET", "/v1/reject-reasons").then(function (res) {
      reasons = res.status === 200 ? res.body.data : [];
      return reasons;
    });
  }

  /* The rep's inbox: pending assignments, refreshed every POLL_MS. */
  function inboxView(view) {
    var list = el("div", { id: "inbox" });
    view.appendChild(el("section", { class: "card" }, [
      el("h2", { text: "Your inbox" }),
      el("p", { class: "muted", text: "Leads waiting for you to accept. The list refreshes by itself." }),
      list
    ]));
    var shown = {};
    function refresh() {
      var path = "/v1/reps/" + encodeURIComponent(state.rep) + "/assignments?status=pending";
      Promise.all([api("GET", path), loadReasons()]).then(function (r) {
        var res = r[0];
        if (res.status !== 200) {
          list.textContent = "Could not load the inbox: " + errorText(res);
          return;
        }
        var ids = {};
        res.body.data.forEach(function (a) {
          ids[a.id] = true;
          if (!shown[a.id]) {
            shown[a.id] = assignmentCard(a, r[1], refresh);
            list.appendChild(shown[a.id]);
          }
        });
        Object.keys(shown).forEach(function (id) {
          if (!ids[id]) {
            shown[id].remove();
            delete shown[id];
          }
        });
        var empty = list.querySelector(".empty");
        if (!res.body.data.length && !empty)
          list.appendChild(el("p", { class: "empty", id: "inbox-empty", text: "Nothing waiting. Well done." }));
        else if (res.body.data.length && empty)
          empty.remove();
        tick();
      });
    }
    refresh();
    timers.push(setInterval(refresh, POLL_MS));
    timers.push(setInterval(tick, 1000));
  }

  function assignmentCard(a, rejectReasons, done) {
    var title = el("h3", { class: "lead-name" }, [el("a", { href: "#/lead/" + a.lead, text: "Lead " + a.lead })]);
    var context = el("div", { class: "context" });
    var why = el("div", { class: "why" });
    var status = el("p", { class: "status error", role: "alert" });
    var select = el("select", { class: "reject-reason", "aria-label": "Reason" },
                    rejectReasons.map(function (r) { return el("option", { value: r.id, text: r.label }); }));
    function act(verb, body) {
      status.textContent = "";
      api("POST", "/v1/assignments/" + a.id + "/" + verb, body).then(function (res) {
        if (res.status === 200) done();
        else status.textContent = "Could not " + verb + ": " + errorText(res);
      });
    }
    var card = el("article", { class: "card assignment", "data-assignment": String(a.id), "data-lead": String(a.lead) }, [
      el("div", null, [title, context, why]),
      el("div", null, [
        el("p", null, ["Accept within: ", el("span", { class: "countdown", "data-deadline": a.accept_by || "" })]),
        el("div", { class: "actions" }, [
          el("button", { type: "button", class: "primary accept", text: "Accept", onclick: function () { act("accept", {}); } })
        ]),
        el("div", { class: "actions" }, [
          select,
          el("button", { type: "button", class: "danger reject", text: "Reject",
                         onclick: function () { act("reject", { reason: select.value }); } })
        ]),
        status
      ])
    ]);
    if (!a.accept_by) card.querySelector(".countdown").textContent = "no deadline";
    api("GET", "/v1/leads/" + a.lead).then(function (res) {
      if (res.status !== 200) return;
      var l = res.body;
      title.firstChild.textContent = leadName(l) + (l.company ? " — " + l.company : "");
      var s = l.score || {};
      context.appendChild(el("p", null, [
        "Score " + Math.round(s.total || 0) + (s.grade ? " (" + s.grade + ")" : ""),
        l.email ? " · " + l.email : "", l.source ? " · source " + l.source : ""
      ]));
      if (s.reasons && s.reasons.length)
        context.appendChild(el("ul", { class: "score-reasons" }, s.reasons.slice(0, 5).map(function (r) {
          return el("li", { text: r.rule + ": " + (r.counted >= 0 ? "+" : "") + r.counted });
        })));
    });
    api("GET", "/v1/leads/" + a.lead + "/decision").then(function (res) {
      if (res.status === 200 && res.body.summary)
        why.appendChild(el("p", { class: "muted" }, ["Why you: " + res.body.summary]));
    });
    return card;
  }

  function rowsOf(report, table) {
    var t = (report.tables || []).filter(function (x) { return x.name === table; })[0];
    if (!t) return [];
    return t.rows.map(function (row) {
      var o = {};
      t.columns.forEach(function (c, i) { o[c] = row[i]; });
      return o;
    });
  }

  var charts = [];

  function chart(canvas, config) {
    if (typeof window.Chart !== "function") {
      canvas.replaceWith(el("p", { class: "error", text: "Chart.js did not load (/ui/chart.js)." }));
      return;
    }
    var c = new window.Chart(canvas, config);
    charts.push(c);
    canvas.baton_chart = c;
  }

  /* The manager's view: the reports drawn per rep (they have no time
   * series), who is about to breach, the hold queue, the reps. */
  function managerView(view) {
    charts.forEach(function (c) { c.destroy(); });
    charts = [];
    var speed = el("canvas", { id: "chart-speed", "aria-label": "Speed to lead by rep" });
    var sla = el("canvas", { id: "chart-sla", "aria-label": "SLA compliance by rep" });
    var speedNote = el("p", { class: "muted" });
    var slaNote = el("p", { class: "muted" });
    var breaching = el("div", { id: "breaching" });
    var holds = el("div", { id: "holds" });
    var reps = el("div", { id: "reps" });
    view.appendChild(el("div", { class: "charts" }, [
      el("section", { class: "card" }, [el("h2", { text: "Speed to lead (last 30 days, p50 by rep)" }), speedNote,
                                         el("div", { class: "chart-box" }, [speed])]),
      el("section", { class: "card" }, [el("h2", { text: "SLA compliance (last 30 days, by rep)" }), slaNote,
                                         el("div", { class: "chart-box" }, [sla])])
    ]));
    view.appendChild(el("section", { class: "card" }, [el("h2", { text: "About to breach (next 30 min)" }), breaching]));
    view.appendChild(el("section", { class: "card" }, [el("h2", { text: "Hold queue" }), holds]));
    view.appendChild(el("section", { class: "card" }, [el("h2", { text: "Reps" }), reps]));

    api("GET", "/v1/reports/speed-to-lead").then(function (res) {
      if (res.status !== 200) { speedNote.textContent = errorText(res); return; }
      var rows = rowsOf(res.body, "speed_to_lead").filter(function (r) { return r.by === "rep"; });
      var names = [];
      rows.forEach(function (r) { if (names.indexOf(r.value) < 0) names.push(r.value); });
      function series(measure) {
        return names.map(function (n) {
          var r = rows.filter(function (x) { return x.value === n && x.measure === measure; })[0];
          return r && r.p50_s !== null ? r.p50_s : null;
        });
      }
      var all = res.body.summary.assigned_to_accepted;
      speedNote.textContent = all.count ? "Accepted " + all.count + " · p50 " + fmtSeconds(all.p50) +
        " · p90 " + fmtSeconds(all.p90) : "No accepted assignments in the window yet.";
      chart(speed, {
        type: "bar",
        data: { labels: names, datasets: [
          { label: "intake → assigned (s)", data: series("intake_to_assigned"), backgroundColor: "#7aa6d8" },
          { label: "assigned → accepted (s)", data: series("assigned_to_accepted"), backgroundColor: "#1f6f43" },
          { label: "accepted → contacted (s)", data: series("accepted_to_contacted"), backgroundColor: "#c98a2b" }
        ] },
        options: { maintainAspectRatio: false, animation: false, scales: { y: { beginAtZero: true, title: { display: true, text: "seconds" } } } }
      });
    });
    api("GET", "/v1/reports/sla").then(function (res) {
      if (res.status !== 200) { slaNote.textContent = errorText(res); return; }
      var rows = rowsOf(res.body, "sla_compliance").filter(function (r) { return r.by === "rep"; });
      var s = res.body.summary;
      slaNote.textContent = "Met " + s.met + " · breached " + s.breached + " · open " + s.open +
        (s.compliance === null ? "" : " · compliance " + Math.round(s.compliance * 100) + "%");
      chart(sla, {
        type: "bar",
        data: { labels: rows.map(function (r) { return r.value; }), datasets: [
          { label: "met", data: rows.map(function (r) { return r.met; }), backgroundColor: "#1f6f43", stack: "s" },
          { label: "breached", data: rows.map(function (r) { return r.breached; }), backgroundColor: "#a33", stack: "s" },
          { label: "open", data: rows.map(function (r) { return r.open; }), backgroundColor: "#9aa3ad", stack: "s" }
        ] },
        options: { maintainAspectRatio: false, animation: false,
                   scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } } }
      });
    });

    function refresh() {
      api("GET", "/v1/assignments?status=pending&breaching_within=30m").then(function (res) {
        breaching.textContent = "";
        if (res.status !== 200) { breaching.textContent = errorText(res); return; }
        if (!res.body.data.length) { breaching.appendChild(el("p", { class: "empty", text: "Nobody is about to breach." })); return; }
        breaching.appendChild(el("table", null, [
          el("tr", null, ["Lead", "Rep", "Policy", "Accept within"].map(function (h) { return el("th", { text: h }); }))
        ].concat(res.body.data.map(function (a) {
          return el("tr", { class: "breaching-row" }, [
            el("td", null, [el("a", { href: "#/lead/" + a.lead, text: "Lead " + a.lead })]),
            el("td", { text: a.rep }), el("td", { text: a.policy || "" }),
            el("td", null, [el("span", { class: "countdown", "data-deadline": a.accept_by || "" })])
          ]);
        }))));
        tick();
      });
      api("GET", "/v1/holds").then(function (res) {
        holds.textContent = "";
        if (res.status !== 200) { holds.textContent = errorText(res); return; }
        if (!res.body.held.length) { holds.appendChild(el("p", { class: "empty", text: "No lead is on hold." })); return; }
        holds.appendChild(el("ul", { class: "plain" }, res.body.held.map(function (h) {
          var id = h.lead !== undefined ? h.lead : h.id;
          return el("li", null, [el("a", { href: "#/lead/" + id, text: "Lead " + id }),
                                 " — " + (h.reason || h.hold_reason || "held")]);
        })));
      });
      if (reps.contains(document.activeElement)) return; /* not under the user's hand */
      api("GET", "/v1/reps").then(function (res) {
        reps.textContent = "";
        if (res.status !== 200) { reps.textContent = errorText(res); return; }
        reps.appendChild(el("table", null, [
          el("tr", null, ["Rep", "Team", "Status", "Working now", "Open / capacity", "Today / cap"].map(function (h) { return el("th", { text: h }); }))
        ].concat(res.body.reps.map(function (r) {
          return el("tr", { class: "rep-row", "data-rep": r.id }, [
            el("td", { text: r.name || r.id }), el("td", { text: r.team || "" }),
            el("td", null, [statusControl(r)]),
            el("td", { text: r.working_now ? "yes" : "no" + (r.not_working_because ? ": " + r.not_working_because : "") }),
            el("td", { text: r.open + " / " + (r.capacity === null ? "–" : r.capacity) }),
            el("td", { text: r.today + " / " + (r.daily_cap === null ? "–" : r.daily_cap) })
          ]);
        }))));
      });
    }
    refresh();
    timers.push(setInterval(refresh, 10000));
    timers.push(setInterval(tick, 1000));
  }

  /* A rep's status, changeable in place (PUT /v1/reps/{id}/status). */
  function statusControl(r) {
    var note = el("span", { class: "error", role: "alert" });
    var select = el("select", { class: "rep-status", "aria-label": "Status of " + r.id },
                    ["available", "away", "offline"].map(function (v) {
                      var o = el("option", { value: v, text: v });
                      if (v === r.status) o.selected = true;
                      return o;
                    }));
    select.addEventListener("change", function () {
      note.textContent = "";
      api("PUT", "/v1/reps/" + encodeURIComponent(r.id) + "/status", { status: select.value }).then(function (res) {
        if (res.status !== 200) note.textContent = " " + errorText(res);
      });
    });
    return el("span", null, [select, note]);
  }

  /* One lead: its context, events, assignments and routing decision. */
  function leadView(view, id) {
    var box = el("section", { class: "card", id: "lead" }, [el("p", { class: "muted", text: "Loading…" })]);
    view.appendChild(box);
    api("GET", "/v1/leads/" + id).then(function (res) {
      box.textContent = "";
      if (res.status === 404) {
        box.appendChild(el("h2", { id: "not-found", text: "Lead not found" }));
        box.appendChild(el("p", { text: "There is no lead " + id + " that you may see." }));
        return;
      }
      if (res.status !== 200) { box.appendChild(el("p", { class: "error", text: errorText(res) })); return; }
      var l = res.body, s = l.score || {};
      box.appendChild(el("h2", { class: "lead-title", text: leadName(l) + (l.company ? " — " + l.company : "") }));
      box.appendChild(el("p", null, [
        "Lead " + l.id + " · stage " + l.stage + " · owner " + (l.owner || "none") +
        " · score " + Math.round(s.total || 0) + (s.grade ? " (" + s.grade + ")" : "")
      ]));
      if (s.reasons && s.reasons.length)
        box.appendChild(el("ul", { class: "score-reasons" }, s.reasons.map(function (r) {
          return el("li", { text: r.rule + " (" + r.kind + "): " + r.counted });
        })));
      var decision = el("div", { id: "lead-decision" }), assignments = el("div", { id: "lead-assignments" }),
          events = el("div", { id: "lead-events" });
      box.appendChild(el("h3", { text: "Decision" }));
      box.appendChild(decision);
      box.appendChild(el("h3", { text: "Assignments" }));
      box.appendChild(assignments);
      var activities = el("div", { id: "lead-activities" });
      box.appendChild(el("h3", { text: "Engagement" }));
      box.appendChild(activities);
      box.appendChild(el("h3", { text: "Events" }));
      box.appendChild(events);
      api("GET", "/v1/leads/" + id + "/activities").then(function (res) {
        if (res.status !== 200) return;
        if (!res.body.data.length) { activities.appendChild(el("p", { class: "empty", text: "No activity recorded." })); return; }
        activities.appendChild(el("ul", { class: "plain" }, res.body.data.map(function (x) {
          return el("li", { class: "activity", text: x.occurred_at + " " + x.type });
        })));
      });
      api("GET", "/v1/leads/" + id + "/decision").then(function (d) {
        decision.textContent = d.status === 200 ? d.body.summary : (d.body && d.body.error ? d.body.error.message : "");
      });
      api("GET", "/v1/leads/" + id + "/assignments").then(function (a) {
        if (a.status !== 200) return;
        if (!a.body.data.length) { assignments.appendChild(el("p", { class: "empty", text: "No assignment yet." })); return; }
        assignments.appendChild(el("table", null, [
          el("tr", null, ["#", "Rep", "Status", "Assigned", "Accept by", "Closed by"].map(function (h) { return el("th", { text: h }); }))
        ].concat(a.body.data.map(function (x) {
          return el("tr", null, [el("td", { text: String(x.attempt) }), el("td", { text: x.rep }),
                                 el("td", { text: x.status }), el("td", { text: x.assigned_at }),
                                 el("td", { text: x.accept_by || "" }), el("td", { text: x.closed_by || "" })]);
        }))));
      });
      api("GET", "/v1/leads/" + id + "/events").then(function (e) {
        if (e.status !== 200) return;
        events.appendChild(el("ul", { class: "plain" }, e.body.data.map(function (x) {
          return el("li", { class: "event", text: x.at + " " + x.type + (x.actor ? " by " + x.actor : "") +
                                                  (x.reason ? " (" + x.reason + ")" : "") });
        })));
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    $("signin-form").addEventListener("submit", onSignIn);
    $("logout").addEventListener("click", onLogout);
    window.addEventListener("hashchange", function () { if (state.role) route(); });
    api("GET", "/ui/session").then(function (res) {
      if (res.status === 200) signedIn(res.body);
      else showSignIn("");
    });
  });
})();
