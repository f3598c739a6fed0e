/*
 * lead.c - the table of lead attributes.
 *
 * One row per `enum lead_attr`, in enum order, so that code which walks the
 * attributes (parsing, normalisation, storage, JSON) indexes this table
 * directly. Limits are in bytes after trimming; they bound what one lead can
 * cost to store and index, and are generous enough for real data (a website
 * may be a long tracking URL, an address is at most 254 bytes by RFC 5321).
 */
#include "core/lead.h"

#include <string.h>

const struct lead_attr_spec lead_attrs[LEAD_ATTR_COUNT] = {
    [LEAD_EXTERNAL_ID] = {"external_id", 128, true},
    [LEAD_EMAIL] = {"email", 254, true},
    [LEAD_FIRST_NAME] = {"first_name", 128, true},
    [LEAD_LAST_NAME] = {"last_name", 128, true},
    [LEAD_COMPANY] = {"company", 256, true},
    [LEAD_TITLE] = {"title", 256, true},
    [LEAD_PHONE] = {"phone", 64, true},
    [LEAD_WEBSITE] = {"website", 2048, true},
    [LEAD_COUNTRY] = {"country", 128, true},
    [LEAD_STATE] = {"state", 128, true},
    [LEAD_CITY] = {"city", 128, true},
    [LEAD_INDUSTRY] = {"industry", 128, true},
    [LEAD_SOURCE] = {"source", 128, true},
    [LEAD_EMAIL_DOMAIN] = {"email_domain", 256, false},
    [LEAD_WEBSITE_DOMAIN] = {"website_domain", 256, false},
    [LEAD_COUNTRY_INPUT] = {"country_input", 128, false},
    [LEAD_EMPLOYEES_BAND] = {"employees_band", 64, false},
    [LEAD_STAGE] = {"stage", 64, false},
    [LEAD_OWNER] = {"owner", 128, false},
};

int lead_attr_find(const char *name)
{
    if (!name)
        return -1;
    for (int i = 0; i < LEAD_ATTR_COUNT; i++) {
        if (strcmp(lead_attrs[i].name, name) == 0)
            return i;
    }
    return -1;
}
