/*
 * Baton's dashboard (docs/dashboard.md): one page, no build step. It signs
 * in at POST /ui/session (the server sets an HttpOnly session cookie and
 * answers with the session's CSRF token), then talks to the ordinary API
 * with the cookie, sending the CSRF token in X-Baton-CSRF on every request
 * that changes state. Every value from the server is put in the page as
 * text (textContent), never as HTML.
 *
 * Views, by the location's hash: #/inbox (a rep's pending assignments and
 * follow-up tasks), #/manager (admin: charts and reports over a chosen
 * window, breaches, holds, deliveries and channels, reps with their status
 * and time off), #/lead/ID (events, assignments, the decision record and,
 * for admins, the lead's deliveries).
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

  /* A table: headers, then rows; a row is an array of cells (text or a
   * node), or {attrs, cells}. Wrapped so that a wide table scrolls on its
   * own on a phone instead of widening the page. */
  function table(headers, rows, attrs) {
    var t = el("table", attrs || null, [
      el("tr", null, headers.map(function (h) { return el("th", { scope: "col", text: h }); }))
    ].concat(rows.map(function (r) {
      var cells = Array.isArray(r) ? r : r.cells;
      return el("tr", Array.isArray(r) ? null : r.attrs, cells.map(function (c) {
        if (c && c.nodeType === 1 && c.tagName === "TD") return c;
        return el("td", null, [c === null || c === undefined ? "" : (typeof c === "object" ? c : String(c))]);
      }));
    })));
    return el("div", { class: "table-wrap" }, [t]);
  }

  function leadLink(id) {
    return el("a", { href: "#/lead/" + id, class: "lead-link", text: "Lead " + id });
  }

  function pct(x) {
    return x === null || x === undefined ? "–" : Math.round(x * 1000) / 10 + "%";
  }

  function when(t) {
    return t ? t.replace("T", " ").replace(/\.\d+Z$/, "Z") : "";
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
    var tasks = tasksSection(view, refresh);
    function both() { refresh(); tasks(); }
    both();
    timers.push(setInterval(both, POLL_MS));
    timers.push(setInterval(tick, 1000));
  }

  /* The rep's open follow-up tasks (GET /v1/reps/{me}/tasks?status=open),
   * earliest due first, overdue ones marked, each with Done
   * (POST /v1/tasks/{id}/done; a contact task records the first contact,
   * so the inbox is refreshed too). Returns its refresh. */
  function tasksSection(view, inboxRefresh) {
    var list = el("div", { id: "tasks" });
    var note = el("p", { class: "error", role: "alert", id: "tasks-error" });
    view.appendChild(el("section", { class: "card" }, [
      el("h2", { text: "Your tasks" }),
      el("p", { class: "muted", text: "Follow-ups, earliest due first." }),
      note, list
    ]));
    function refresh(force) {
      if (!force && list.contains(document.activeElement)) return; /* not under the user's hand */
      api("GET", "/v1/reps/" + encodeURIComponent(state.rep) + "/tasks?status=open").then(function (res) {
        list.textContent = "";
        if (res.status !== 200) { list.textContent = "Could not load the tasks: " + errorText(res); return; }
        if (!res.body.data.length) {
          list.appendChild(el("p", { class: "empty", id: "tasks-empty", text: "No open task." }));
          return;
        }
        list.appendChild(table(["Task", "Lead", "Due", ""], res.body.data.map(function (t) {
          var due = el("td", null, [when(t.due_at) || "–"]);
          if (t.overdue) due.appendChild(el("span", { class: "badge overdue", text: "overdue" }));
          return { attrs: { class: "task-row" + (t.overdue ? " is-overdue" : ""), "data-task": String(t.id) },
                   cells: [t.title, leadLink(t.lead), due,
                           el("button", { type: "button", class: "primary task-done", text: "Done",
                                          "aria-label": "Done: " + t.title, onclick: function () {
                             note.textContent = "";
                             api("POST", "/v1/tasks/" + t.id + "/done", {}).then(function (r) {
                               if (r.status !== 200) note.textContent = "Could not complete the task: " + errorText(r);
                               refresh(true);
                               inboxRefresh();
                             });
                           } })] };
        })));
      });
    }
    return refresh;
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
    if (canvas.baton_chart) {
      charts.splice(charts.indexOf(canvas.baton_chart), 1);
      canvas.baton_chart.destroy();
    }
    var c = new window.Chart(canvas, config);
    charts.push(c);
    canvas.baton_chart = c;
    /* which window it shows, and how many times it was drawn (the tests read them) */
    canvas.setAttribute("data-window", String(windowDays));
    canvas.setAttribute("data-drawn", String(Number(canvas.getAttribute("data-drawn") || 0) + 1));
  }

  /* the manager's window, kept across views and reloads of the tab */
  var windowDays = [7, 30, 90].indexOf(Number(sessionStorage.getItem("baton.window"))) >= 0
    ? Number(sessionStorage.getItem("baton.window")) : 30;
  var reportsGen = 0;

  /* The manager's view: a window picker (7, 30 or 90 days) over the
   * reports drawn per rep (they have no time series) and the fairness and
   * dark-leads tables; who is about to breach, the hold queue, the
   * deliveries that failed or died with their channels, and the reps. */
  function managerView(view) {
    charts.forEach(function (c) { c.destroy(); });
    charts = [];
    var picker = el("div", { class: "window-picker", role: "group", "aria-label": "Window" },
                    [el("span", { text: "Window: " })].concat([7, 30, 90].map(function (d) {
                      return el("button", { type: "button", class: "window", "data-days": String(d),
                                            "aria-pressed": String(d === windowDays), text: d + " days",
                                            onclick: function () { setWindow(d); } });
                    })));
    var speed = el("canvas", { id: "chart-speed", "aria-label": "Speed to lead by rep" });
    var sla = el("canvas", { id: "chart-sla", "aria-label": "SLA compliance by rep" });
    var speedTitle = el("h2"), slaTitle = el("h2"), fairTitle = el("h2"), darkTitle = el("h2");
    var speedNote = el("p", { class: "muted" });
    var slaNote = el("p", { class: "muted" });
    var fairness = el("div", { id: "fairness" });
    var dark = el("div", { id: "dark-leads" });
    var breaching = el("div", { id: "breaching" });
    var holds = el("div", { id: "holds" });
    var deliveries = el("div", { id: "deliveries" });
    var channels = el("div", { id: "channels" });
    var reps = el("div", { id: "reps" });
    view.appendChild(el("section", { class: "card" }, [picker]));
    view.appendChild(el("div", { class: "charts" }, [
      el("section", { class: "card" }, [speedTitle, speedNote, el("div", { class: "chart-box" }, [speed])]),
      el("section", { class: "card" }, [slaTitle, slaNote, el("div", { class: "chart-box" }, [sla])])
    ]));
    view.appendChild(el("section", { class: "card" }, [fairTitle, fairness]));
    view.appendChild(el("section", { class: "card" }, [darkTitle, dark]));
    view.appendChild(el("section", { class: "card" }, [el("h2", { text: "About to breach (next 30 min)" }), breaching]));
    view.appendChild(el("section", { class: "card" }, [el("h2", { text: "Hold queue" }), holds]));
    view.appendChild(el("section", { class: "card", id: "deliveries-section" }, [
      el("h2", { text: "Deliveries that failed or died" }), deliveries,
      el("h3", { text: "Channels" }), channels]));
    view.appendChild(el("section", { class: "card" }, [el("h2", { text: "Reps" }), reps]));

    function setWindow(d) {
      windowDays = d;
      sessionStorage.setItem("baton.window", String(d));
      picker.querySelectorAll("button.window").forEach(function (b) {
        b.setAttribute("aria-pressed", String(b.getAttribute("data-days") === String(d)));
      });
      reports();
    }

    /* The reports over the window: since=Nd is an age before the server's
     * now (the manual clock under --manual-clock), until its default, now. */
    function reports() {
      var gen = ++reportsGen; /* a late answer for an older window is dropped */
      var q = "?since=" + windowDays + "d", span = "last " + windowDays + " days";
      speedTitle.textContent = "Speed to lead (" + span + ", p50 by rep)";
      slaTitle.textContent = "SLA compliance (" + span + ", by rep)";
      fairTitle.textContent = "Fairness per pool (" + span + ")";
      darkTitle.textContent = "Dark leads (came in during the " + span + ")";
      api("GET", "/v1/reports/speed-to-lead" + q).then(function (res) {
        if (gen !== reportsGen) return;
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
          " · p90 " + fmtSeconds(all.p90) : "No accepted assignments in the window.";
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
      api("GET", "/v1/reports/sla" + q).then(function (res) {
        if (gen !== reportsGen) return;
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
      api("GET", "/v1/reports/fairness" + q).then(function (res) {
        if (gen !== reportsGen) return;
        fairness.textContent = "";
        if (res.status !== 200) { fairness.textContent = errorText(res); return; }
        var rows = rowsOf(res.body, "fairness"), pools = res.body.summary.pools || {};
        if (!rows.length) { fairness.appendChild(el("p", { class: "empty", text: "No pool is configured." })); return; }
        Object.keys(pools).forEach(function (id) {
          var mine = rows.filter(function (r) { return r.pool === id; }), p = pools[id];
          var first = mine[0] || {};
          fairness.appendChild(el("h3", { text: id + " (" + (first.strategy || "") + ", absence " +
                                          (first.absence || "") + "): " + p.leads + (p.leads === 1 ? " lead" : " leads") + ", largest deviation " +
                                          pct(p.max_deviation) }));
          fairness.appendChild(table(["Rep", "Weight", "Counted", "Expected", "Leads", "Actual", "Deviation"],
            mine.map(function (r) {
              return { attrs: { class: "fairness-row", "data-pool": id, "data-rep": r.rep },
                       cells: [r.rep, r.weight, r.counted ? "yes" : "no (inactive)", pct(r.expected_share),
                               r.leads, pct(r.actual_share), pct(r.deviation)] };
            })));
        });
      });
      api("GET", "/v1/reports/dark-leads" + q).then(function (res) {
        if (gen !== reportsGen) return;
        dark.textContent = "";
        if (res.status !== 200) { dark.textContent = errorText(res); return; }
        var s = res.body.summary;
        dark.appendChild(el("p", { id: "dark-summary", text: "Qualified " + s.qualified + " · never accepted " +
          s.never_accepted + " · never contacted " + s.never_contacted + " · dark share " + pct(s.dark_share) +
          (s.estimated_lost_revenue === null ? "" : " · estimated lost revenue " + s.estimated_lost_revenue) }));
        var never = rowsOf(res.body, "never_contacted");
        dark.appendChild(el("h3", { text: "Oldest never contacted" }));
        dark.appendChild(never.length ? table(["Lead", "Came in", "Qualified", "Stage", "Source"], never.map(function (r) {
          return { attrs: { class: "dark-row" }, cells: [leadLink(r.lead), when(r.created_at), when(r.qualified_at), r.stage, r.source] };
        })) : el("p", { class: "empty", text: "None: every qualified lead was contacted." }));
        var held = rowsOf(res.body, "held_longest");
        dark.appendChild(el("h3", { text: "Held longest (now)" }));
        dark.appendChild(held.length ? table(["Lead", "Held since", "Reason", "Source", "Score"], held.map(function (r) {
          return [leadLink(r.lead), when(r.held_since), r.reason, r.source, Math.round(r.score)];
        })) : el("p", { class: "empty", text: "No lead is on hold." }));
      });
    }

    function refresh() {
      api("GET", "/v1/assignments?status=pending&breaching_within=30m").then(function (res) {
        breaching.textContent = "";
        if (res.status !== 200) { breaching.textContent = errorText(res); return; }
        if (!res.body.data.length) { breaching.appendChild(el("p", { class: "empty", text: "Nobody is about to breach." })); return; }
        breaching.appendChild(table(["Lead", "Rep", "Policy", "Accept within"], res.body.data.map(function (a) {
          return { attrs: { class: "breaching-row" },
                   cells: [leadLink(a.lead), a.rep, a.policy || "",
                           el("span", { class: "countdown", "data-deadline": a.accept_by || "" })] };
        })));
        tick();
      });
      api("GET", "/v1/holds").then(function (res) {
        holds.textContent = "";
        if (res.status !== 200) { holds.textContent = errorText(res); return; }
        if (!res.body.held.length) { holds.appendChild(el("p", { class: "empty", text: "No lead is on hold." })); return; }
        holds.appendChild(el("ul", { class: "plain" }, res.body.held.map(function (h) {
          var id = h.lead !== undefined ? h.lead : h.id;
          return el("li", null, [leadLink(id), " — " + (h.reason || h.hold_reason || "held")]);
        })));
      });
      refreshDeliveries(false);
      /* not under the user's hand: focus inside, or a time-off form open */
      if (reps.contains(document.activeElement) || reps.querySelector("form.time-off")) return;
      api("GET", "/v1/reps").then(function (res) {
        reps.textContent = "";
        if (res.status !== 200) { reps.textContent = errorText(res); return; }
        reps.appendChild(table(["Rep", "Team", "Status", "Working now", "Open / capacity", "Today / cap", "Time off"],
          res.body.reps.map(function (r) {
            var off = el("td", { class: "time-off-cell" });
            off.appendChild(el("button", { type: "button", class: "time-off-open", text: "Time off…",
                                           "aria-expanded": "false", "aria-label": "Time off of " + r.id,
                                           onclick: function (ev) { timeOffForm(r, off, ev.currentTarget); } }));
            return { attrs: { class: "rep-row", "data-rep": r.id },
                     cells: [r.name || r.id, r.team || "", statusControl(r),
                             r.working_now ? "yes" : "no" + (r.not_working_because ? ": " + r.not_working_because : ""),
                             r.open + " / " + (r.capacity === null ? "–" : r.capacity),
                             r.today + " / " + (r.daily_cap === null ? "–" : r.daily_cap), off] };
          })));
      });
    }

    /* Failed and dead deliveries (newest first) and the channels. Each
     * delivery opens to its attempts; the ones open stay open across
     * refreshes. */
    var expanded = {};
    function refreshDeliveries(force) {
      if (!force && (deliveries.contains(document.activeElement) || channels.contains(document.activeElement))) return;
      Promise.all([api("GET", "/v1/deliveries?status=failed"), api("GET", "/v1/deliveries?status=dead")]).then(function (r) {
        deliveries.textContent = "";
        if (r[0].status !== 200 || r[1].status !== 200) {
          deliveries.textContent = errorText(r[0].status !== 200 ? r[0] : r[1]);
          return;
        }
        var list = r[0].body.data.concat(r[1].body.data).sort(function (a, b) { return b.id - a.id; });
        if (!list.length) { deliveries.appendChild(el("p", { class: "empty", id: "deliveries-empty", text: "Nothing failed or dead." })); return; }
        deliveries.appendChild(deliveryTable(list, expanded, function () { refreshDeliveries(true); }));
      });
      api("GET", "/v1/deliveries/channels").then(function (res) {
        channels.textContent = "";
        if (res.status !== 200) { channels.textContent = errorText(res); return; }
        if (!res.body.data.length) { channels.appendChild(el("p", { class: "empty", text: "No channel is configured." })); return; }
        channels.appendChild(table(["Channel", "Type", "State", "Failures", "Backlog", "Oldest waiting", ""],
          res.body.data.map(function (c) {
            var k = c.counts, action = el("td");
            if (c.state !== "active")
              action.appendChild(el("button", { type: "button", class: "primary channel-enable", text: "Enable",
                                                "aria-label": "Enable " + c.id, onclick: function () {
                api("POST", "/v1/deliveries/channels/" + encodeURIComponent(c.id) + "/enable", {}).then(function (x) {
                  if (x.status !== 200) action.appendChild(el("span", { class: "error", role: "alert", text: " " + errorText(x) }));
                  else refreshDeliveries(true);
                });
              } }));
            var stateCell = el("td", null, [el("span", { class: "state state-" + c.state, text: c.state })]);
            if (c.reason) stateCell.appendChild(el("span", { class: "muted", text: " (" + c.reason + ")" }));
            return { attrs: { class: "channel-row", "data-channel": c.id },
                     cells: [c.id, c.type, stateCell, c.failures,
                             "pending " + k.pending + " · failed " + k.failed + " · dead " + k.dead + " · held " + k.held,
                             when(c.oldest_waiting) || "–", action] };
          })));
      });
    }

    reports();
    refresh();
    timers.push(setInterval(refresh, 10000));
    timers.push(setInterval(tick, 1000));
  }

  /* Deliveries as a table, each row with Attempts (opens a row below with
   * GET /v1/deliveries/{id}'s attempts: time, status, latency, verdict,
   * error and the answer's first bytes) and, unless delivered, Retry
   * (POST /v1/deliveries/{id}/retry). `expanded` remembers the open ones
   * by id; changed() runs after a retry. */
  function deliveryTable(list, expanded, changed) {
    var rows = [];
    list.forEach(function (d) {
      var detailCell = el("td", { colspan: "8" });
      var detail = el("tr", { class: "delivery-detail", id: "delivery-detail-" + d.id }, [detailCell]);
      var note = el("span", { class: "delivery-note", role: "status" });
      var toggle = el("button", { type: "button", class: "delivery-toggle", text: "Attempts",
                                  "aria-expanded": "false", "aria-controls": detail.id,
                                  "aria-label": "Attempts of delivery " + d.id });
      function open(show) {
        detail.hidden = !show;
        toggle.setAttribute("aria-expanded", String(show));
        if (show) expanded[d.id] = true; else delete expanded[d.id];
        if (!show) return;
        detailCell.textContent = "Loading…";
        api("GET", "/v1/deliveries/" + d.id).then(function (res) {
          detailCell.textContent = "";
          if (res.status !== 200) { detailCell.textContent = errorText(res); return; }
          if (!res.body.attempts.length) { detailCell.appendChild(el("p", { class: "empty", text: "No attempt yet." })); return; }
          detailCell.appendChild(table(["Time", "Status", "Latency", "Verdict", "Error", "Answer (first bytes)"],
            res.body.attempts.map(function (a) {
              return { attrs: { class: "attempt-row" },
                       cells: [when(a.at), a.status === null ? "–" : a.status, a.latency_ms + " ms", a.verdict || "",
                               a.error || "", a.response === null ? "" : el("code", { class: "response", text: a.response })] };
            })));
        });
      }
      toggle.addEventListener("click", function () { open(toggle.getAttribute("aria-expanded") !== "true"); });
      var actions = el("td", { class: "actions" }, [toggle]);
      if (d.status !== "delivered")
        actions.appendChild(el("button", { type: "button", class: "primary delivery-retry", text: "Retry",
                                           "aria-label": "Retry delivery " + d.id, onclick: function () {
          note.textContent = "";
          api("POST", "/v1/deliveries/" + d.id + "/retry", {}).then(function (res) {
            note.textContent = res.status === 200 ? " Due now: it is being sent again." : " " + errorText(res);
            if (res.status === 200) setTimeout(changed, 1500);
          });
        } }));
      actions.appendChild(note);
      rows.push({ attrs: { class: "delivery-row", "data-delivery": String(d.id), "data-status": d.status },
                  cells: [String(d.id), d.channel, d.event_type, d.lead ? leadLink(d.lead) : "",
                          el("span", { class: "state state-" + d.status, text: d.status }), d.attempts,
                          (d.last_status ? "HTTP " + d.last_status + " " : "") + (d.last_error || ""), actions] });
      rows.push(detail);
      open(!!expanded[d.id]);
    });
    var t = table(["#", "Channel", "Event", "Lead", "Status", "Attempts", "Last answer", ""], []);
    var tb = t.querySelector("table");
    rows.forEach(function (r) {
      if (r.nodeType === 1) { tb.appendChild(r); return; }
      tb.appendChild(el("tr", r.attrs, r.cells.map(function (c) {
        if (c && c.nodeType === 1 && c.tagName === "TD") return c;
        return el("td", null, [typeof c === "object" ? c : String(c)]);
      })));
    });
    return t;
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

  /* A rep's time off that has not ended (GET /v1/reps/{id}), each with
   * Remove (DELETE …/time-off/{n}), and a form to add a span
   * (POST /v1/reps/{id}/time-off; the browser's local times, sent as UTC). */
  function timeOffForm(r, cell, opener) {
    var existing = cell.querySelector("form.time-off");
    if (existing) { existing.remove(); opener.setAttribute("aria-expanded", "false"); return; }
    opener.setAttribute("aria-expanded", "true");
    var spans = el("ul", { class: "plain time-off-list" });
    var note = el("p", { class: "error", role: "alert" });
    var from = el("input", { type: "datetime-local", class: "time-off-from", required: "required" });
    var to = el("input", { type: "datetime-local", class: "time-off-to", required: "required" });
    var reason = el("input", { type: "text", class: "time-off-reason", maxlength: "1000" });
    function show(rep) {
      spans.textContent = "";
      (rep.time_off || []).forEach(function (t) {
        spans.appendChild(el("li", { class: "time-off-span" }, [
          when(t.from) + " → " + when(t.to) + (t.reason ? " (" + t.reason + ")" : "") + " ",
          el("button", { type: "button", class: "danger time-off-remove", text: "Remove",
                         "aria-label": "Remove time off " + t.id, onclick: function () {
            api("DELETE", "/v1/reps/" + encodeURIComponent(r.id) + "/time-off/" + t.id).then(function (res) {
              if (res.status === 200) show(res.body); else note.textContent = errorText(res);
            });
          } })
        ]));
      });
      if (!spans.firstChild) spans.appendChild(el("li", { class: "empty", text: "No time off ahead." }));
    }
    var form = el("form", { class: "time-off", "aria-label": "Add time off for " + r.id }, [
      spans,
      el("label", null, ["From ", from]), el("label", null, ["To ", to]),
      el("label", null, ["Reason ", reason]),
      el("div", { class: "actions" }, [el("button", { type: "submit", class: "primary", text: "Add time off" }),
                                       el("button", { type: "button", text: "Close", onclick: function () {
                                         form.remove(); opener.setAttribute("aria-expanded", "false"); opener.focus();
                                       } })]),
      note
    ]);
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      note.textContent = "";
      var f = new Date(from.value), t = new Date(to.value);
      if (isNaN(f) || isNaN(t)) { note.textContent = "Give both times."; return; }
      var body = { from: f.toISOString(), to: t.toISOString() };
      if (reason.value) body.reason = reason.value;
      api("POST", "/v1/reps/" + encodeURIComponent(r.id) + "/time-off", body).then(function (res) {
        if (res.status === 201) { show(res.body); from.value = to.value = reason.value = ""; }
        else note.textContent = "Could not add it: " + errorText(res);
      });
    });
    cell.appendChild(form);
    api("GET", "/v1/reps/" + encodeURIComponent(r.id)).then(function (res) {
      if (res.status === 200) show(res.body);
    });
    from.focus();
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
          events = el("div", { id: "lead-events" }), activities = el("div", { id: "lead-activities" });
      box.appendChild(el("h3", { text: "Decision" }));
      box.appendChild(decision);
      box.appendChild(el("h3", { text: "Assignments" }));
      box.appendChild(assignments);
      box.appendChild(el("h3", { text: "Engagement" }));
      box.appendChild(activities);
      box.appendChild(el("h3", { text: "Events" }));
      box.appendChild(events);
      if (state.role === "admin") { /* the outbox is an admin's: a rep never gets this section */
        var deliveries = el("div", { id: "lead-deliveries" });
        box.appendChild(el("h3", { text: "Deliveries" }));
        box.appendChild(deliveries);
        var expanded = {};
        var loadDeliveries = function () {
          api("GET", "/v1/deliveries?lead=" + id).then(function (res) {
            deliveries.textContent = "";
            if (res.status !== 200) { deliveries.textContent = errorText(res); return; }
            if (!res.body.data.length) { deliveries.appendChild(el("p", { class: "empty", text: "Nothing was sent about this lead." })); return; }
            deliveries.appendChild(deliveryTable(res.body.data, expanded, loadDeliveries));
          });
        };
        loadDeliveries();
      }
      api("GET", "/v1/leads/" + id + "/activities").then(function (res) {
        if (res.status !== 200) return;
        if (!res.body.data.length) { activities.appendChild(el("p", { class: "empty", text: "No activity recorded." })); return; }
        activities.appendChild(el("ul", { class: "plain" }, res.body.data.map(function (x) {
          return el("li", { class: "activity", text: when(x.occurred_at) + " " + x.type });
        })));
      });
      api("GET", "/v1/leads/" + id + "/decision").then(function (d) {
        if (d.status !== 200) { decision.textContent = d.body && d.body.error ? d.body.error.message : ""; return; }
        decisionRecord(decision, d.body);
      });
      api("GET", "/v1/leads/" + id + "/assignments").then(function (a) {
        if (a.status !== 200) return;
        if (!a.body.data.length) { assignments.appendChild(el("p", { class: "empty", text: "No assignment yet." })); return; }
        assignments.appendChild(table(["#", "Rep", "Status", "Rule / pool", "Policy", "Assigned", "Accepted", "Contacted", "Closed", "Next"],
          a.body.data.map(function (x) {
            return { attrs: { class: "assignment-row" },
                     cells: [x.attempt, x.rep, x.status, (x.rule || "") + (x.pool ? " / " + x.pool : ""), x.policy || "",
                             when(x.assigned_at), when(x.accepted_at), when(x.contacted_at),
                             x.closed_at ? when(x.closed_at) + (x.closed_by ? " by " + x.closed_by : "") +
                               (x.close_reason ? " (" + x.close_reason + ")" : "") : "",
                             x.next || ""] };
          })));
      });
      api("GET", "/v1/leads/" + id + "/events?limit=500").then(function (e) {
        if (e.status !== 200) return;
        events.appendChild(table(["Time", "Event", "Actor", "Reason"], e.body.data.map(function (x) {
          return { attrs: { class: "event" }, cells: [when(x.at), x.type, x.actor || "", x.reason || ""] };
        })));
        if (e.body.next_cursor)
          events.appendChild(el("p", { class: "muted", text: "The first 500 events are shown." }));
      });
    });
  }

  /* The routing decision record (docs/routing.md): its summary, the
   * outcome, every rule tried and the candidates with their eligibility. */
  function decisionRecord(box, d) {
    box.appendChild(el("p", { class: "decision-summary", text: d.summary || "" }));
    box.appendChild(el("p", { class: "muted", text: "Result " + d.result + (d.rep ? " · rep " + d.rep : "") +
      (d.rule ? " · rule " + d.rule : "") + (d.pool ? " · pool " + d.pool : "") +
      (d.hold_reason ? " · held: " + d.hold_reason : "") + (d.strategy ? " · strategy " + d.strategy.name : "") +
      " · at " + when(d.at) + " · configuration " + d.config_version }));
    if (d.rules && d.rules.length)
      box.appendChild(table(["Rule", "Target", "When", "Matched", "Step"], d.rules.map(function (r) {
        return { attrs: { class: "decision-rule" },
                 cells: [r.rule, r.target, r.when || "", r.matched ? "yes" : "no",
                         typeof r.step === "object" && r.step !== null ? JSON.stringify(r.step) : (r.step || "")] };
      })));
    if (d.candidates && d.candidates.length)
      box.appendChild(table(["Candidate", "Eligible", "Open / capacity", "Today / cap", "Verdict"], d.candidates.map(function (c) {
        return { attrs: { class: "decision-candidate" },
                 cells: [c.rep, c.eligible ? "yes" : "no: " + c.reason,
                         c.open + " / " + (c.capacity === null ? "–" : c.capacity),
                         c.today + " / " + (c.daily_cap === null ? "–" : c.daily_cap),
                         (c.verdict || "") + (c.value !== undefined && c.value !== null ? " (" + c.value + ")" : "")] };
      })));
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
