/*
 * Baton's form script: GET /v1/forms/{id}.js serves this text followed by
 * "(SETTINGS);", SETTINGS being the form's settings as JSON (its id, a
 * fill-time token, the honeypot's name, the messages). It is built into the
 * binary (api_forms.c) and needs nothing else.
 *
 * It finds the page's own <form data-baton="ID">, points it at Baton (so
 * that without JavaScript, or without fetch, the form still posts as a
 * plain HTML form), adds the token and the honeypot, and then sends it by
 * fetch() as JSON: on success it shows the form's success message, on a
 * refusal the message of each input next to it.
 */
(function (cfg) {
  "use strict";
  var script = document.currentScript;
  var base = script && script.src ? new URL(script.src, window.location.href).origin : "";
  var endpoint = base + "/v1/forms/" + encodeURIComponent(cfg.id);

  function status(form, state, message) {
    var box = form.querySelector("[data-baton-status]");
    if (!box) {
      box = document.createElement("p");
      box.setAttribute("data-baton-status", "");
      box.setAttribute("role", "status");
      form.appendChild(box);
    }
    box.className = "baton-" + state;
    box.setAttribute("data-baton-state", state);
    box.textContent = message;
  }

  function clearErrors(form) {
    var slots = form.querySelectorAll("[data-baton-error]");
    for (var i = 0; i < slots.length; i++) {
      if (slots[i].hasAttribute("data-baton-made")) slots[i].parentNode.removeChild(slots[i]);
      else slots[i].textContent = "";
    }
    var marked = form.querySelectorAll("[aria-invalid]");
    for (var j = 0; j < marked.length; j++) marked[j].removeAttribute("aria-invalid");
  }

  function input(form, name) {
    var all = form.querySelectorAll("[name]");
    for (var i = 0; i < all.length; i++) if (all[i].getAttribute("name") === name) return all[i];
    return null;
  }

  function showError(form, name, message) {
    var el = name ? input(form, name) : null;
    var slots = form.querySelectorAll("[data-baton-error]"), slot = null;
    for (var i = 0; i < slots.length; i++)
      if (slots[i].getAttribute("data-baton-error") === name) slot = slots[i];
    if (!slot) {
      slot = document.createElement("span");
      slot.setAttribute("data-baton-error", name || "");
      slot.setAttribute("data-baton-made", "");
      slot.className = "baton-error";
      if (el) el.insertAdjacentElement("afterend", slot);
      else form.appendChild(slot);
    }
    slot.textContent = message;
    if (el) el.setAttribute("aria-invalid", "true");
  }

  function hidden(form, name, value) {
    var el = input(form, name);
    if (!el) {
      el = document.createElement("input");
      el.type = "hidden";
      el.name = name;
      form.appendChild(el);
    }
    el.value = value;
  }

  /* An input people do not see and bots fill in. */
  function honeypot(form) {
    if (!cfg.honeypot || input(form, cfg.honeypot)) return;
    var wrap = document.createElement("div");
    wrap.setAttribute("aria-hidden", "true");
    wrap.style.cssText = "position:absolute;left:-10000px;width:1px;height:1px;overflow:hidden";
    var el = document.createElement("input");
    el.type = "text";
    el.name = cfg.honeypot;
    el.tabIndex = -1;
    el.autocomplete = "off";
    wrap.appendChild(el);
    form.appendChild(wrap);
  }

  function collect(form) {
    var out = {};
    new FormData(form).forEach(function (value, name) {
      if (typeof value === "string") out[name] = value;
    });
    return out;
  }

  function send(form) {
    var button = form.querySelector("[type=submit]");
    clearErrors(form);
    if (button) button.disabled = true;
    status(form, "sending", cfg.messages.sending);
    fetch(endpoint, {
      method: "POST",
      mode: "cors",
      credentials: "omit",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(collect(form))
    }).then(function (resp) {
      return resp.json().catch(function () { return {}; }).then(function (body) {
        return { status: resp.status, body: body || {} };
      });
    }).then(function (res) {
      if (button) button.disabled = false;
      if (res.status >= 200 && res.status < 300) {
        form.reset();
        status(form, "success", res.body.message || cfg.messages.success);
        form.dispatchEvent(new CustomEvent("baton:success", { detail: res.body }));
        if (cfg.redirect) window.location.assign(cfg.redirect);
        return;
      }
      var errors = res.body.errors || [];
      for (var i = 0; i < errors.length; i++) showError(form, errors[i].field, errors[i].message);
      var message = errors.length ? cfg.messages.fix
        : (res.body.error && res.body.error.message) || cfg.messages.failed;
      status(form, "error", message);
    }).catch(function () {
      if (button) button.disabled = false;
      status(form, "error", cfg.messages.failed);
    });
  }

  function attach(form) {
    if (form.hasAttribute("data-baton-ready")) return;
    form.setAttribute("data-baton-ready", "");
    if (!form.getAttribute("action")) form.setAttribute("action", endpoint);
    form.setAttribute("method", "post");
    hidden(form, "_baton_token", cfg.token || "");
    honeypot(form);
    if (!window.fetch || !window.FormData) return; /* the plain post it was */
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      send(form);
    });
  }

  function start() {
    var forms = document.querySelectorAll("form[data-baton]");
    for (var i = 0; i < forms.length; i++)
      if (forms[i].getAttribute("data-baton") === cfg.id) attach(forms[i]);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})
