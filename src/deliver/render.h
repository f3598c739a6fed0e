/*
 * render.h - what a message looks like on each channel, from its message
 * context (core/delivery.h) and the channel's configuration.
 *
 * Email, Slack and SMS text comes from the channel's template, or from the
 * built-in one for the event and recipient (render.c lists them; they are
 * compiled once and checked like a configured template). Webhooks send the
 * context itself, CRM channels its field mapping. Pure apart from the
 * arena: the same row renders to the same bytes on every attempt (the
 * links and the meeting invite are in the context the worker completes).
 */
#ifndef BT_DELIVER_RENDER_H
#define BT_DELIVER_RENDER_H

#include "config/config.h"
#include "util/arena.h"
#include "util/err.h"

#include <jansson.h>

#define RENDER_TEXT_MAX    (64 * 1024)  /* bytes of one rendered part */
#define RENDER_BODY_MAX    (512 * 1024) /* bytes of a webhook's or CRM's JSON body */
#define RENDER_SMS_SEGMENT 160         /* characters of one GSM SMS segment */

/* A message's parts, in the arena; NULL: not there. */
struct rendered {
    const char *subject; /* email */
    const char *text;    /* email's text part; Slack's fallback text; the SMS body */
    const char *html;    /* email's HTML part */
    const char *body;    /* HTTP channels: the request body (JSON, or form-encoded for SMS) */
};

/*
 * Renders the row's context `ctx` for channel `ch` (type webhook, crm,
 * slack, email or sms) and event `type`. BT_ETOOBIG when a part would be
 * longer than RENDER_TEXT_MAX (a JSON body than RENDER_BODY_MAX); BT_EINVAL
 * for a context a template cannot use.
 */
bt_err render_message(const struct config *cfg, const struct config_channel *ch,
                      const char *type, json_t *ctx, struct arena *a, struct rendered *out,
                      struct bt_error *err) BT_MUST_USE;

/*
 * Renders every built-in template and every configured one against a
 * sample lead (`baton check` and the unit tests): BT_OK, or the first
 * failure naming the template.
 */
bt_err render_check(const struct config *cfg, struct arena *a, struct bt_error *err) BT_MUST_USE;

/* The sample context render_check() uses: a lead assigned to the first rep
 * of cfg (or a made-up one). A new reference. */
json_t *render_sample_context(const struct config *cfg, const char *type);

#endif
