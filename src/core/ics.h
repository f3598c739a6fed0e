/*
 * ics.h - a meeting invite as iCalendar text (RFC 5545, method REQUEST of
 * iTIP, RFC 5546), for the first call between a rep and a new lead.
 *
 * The invite is one VCALENDAR holding one VEVENT:
 *
 *   BEGIN:VCALENDAR
 *   VERSION:2.0
 *   PRODID:-//Baton//Baton//EN
 *   CALSCALE:GREGORIAN
 *   METHOD:REQUEST
 *   BEGIN:VEVENT
 *   UID, DTSTAMP, DTSTART, DTEND   (times in UTC: 20261124T090000Z)
 *   SUMMARY, DESCRIPTION (when given), LOCATION and URL (when given)
 *   ORGANIZER;CN=...:mailto:...
 *   ATTENDEE;CN=...;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:...
 *   SEQUENCE:0, STATUS:CONFIRMED, TRANSP:OPAQUE
 *   END:VEVENT
 *   END:VCALENDAR
 *
 * Times are written in UTC with a "Z", which RFC 5545 section 3.3.5 allows
 * everywhere and which needs no VTIMEZONE; calendar clients show them in the
 * reader's zone.
 *
 * Encoding, as RFC 5545 section 3.1 and 3.3.11 ask:
 *   - every line ends with CRLF, including the last;
 *   - a content line longer than 75 octets is folded: CRLF and one space
 *     are inserted, so that no physical line exceeds 75 octets (the space
 *     counts); a fold never splits a UTF-8 sequence;
 *   - TEXT values (UID, SUMMARY, DESCRIPTION, LOCATION) escape backslash,
 *     semicolon and comma with a backslash, and a line break (LF, CRLF or a
 *     lone CR, only in DESCRIPTION) becomes "\n";
 *   - a CN parameter value holding ':', ';' or ',' is put in double quotes.
 *
 * Input checks, each failing with BT_EINVAL and the field's name in the
 * error ("uid", "summary", "organizer.email", "attendees[2].name", ...):
 * text must be valid UTF-8; single-line fields (everything except the
 * description) refuse CR, LF and control characters, the description
 * refuses control characters other than tab and line breaks; a CN refuses
 * the double quote (RFC 5545 has no way to write one in a parameter); an
 * email is plain ASCII "local@domain" without characters that a mailto: URI
 * would have to escape; a URL is printable ASCII with a scheme and no
 * spaces. Every field has a maximum length (BT_ETOOBIG beyond it).
 *
 * Pure: no I/O, no clock (DTSTAMP is an argument). The text is allocated in
 * the caller's arena.
 */
#ifndef BT_CORE_ICS_H
#define BT_CORE_ICS_H

#include "util/arena.h"
#include "util/err.h"

#include <stddef.h>
#include <stdint.h>

#define ICS_UID_MAX         255   /* bytes */
#define ICS_LINE_FIELD_MAX  1024  /* bytes of summary, location */
#define ICS_DESCRIPTION_MAX 16384 /* bytes */
#define ICS_NAME_MAX        256   /* bytes of a CN */
#define ICS_EMAIL_MAX       254   /* bytes */
#define ICS_URL_MAX         2048  /* bytes */
#define ICS_ATTENDEES_MAX   100

/* Octets of a physical line, CRLF excluded (RFC 5545 section 3.1). */
#define ICS_LINE_OCTETS 75

/* A calendar user: an email address and an optional display name. */
struct ics_person {
    const char *name;  /* the CN parameter; NULL or "": none */
    const char *email; /* required: written as mailto:EMAIL */
};

/* What the invite says; every string is read during the call only. */
struct ics_invite {
    const char *uid;  /* required, globally unique (e.g. "assignment-42@baton.example") */
    int64_t stamp_ms; /* DTSTAMP: when the invite was made; written to the second, rounded down */
    int64_t start_ms; /* DTSTART, a whole second */
    int64_t end_ms;   /* DTEND, a whole second after start_ms */
    const char *summary;     /* required, one line */
    const char *description; /* NULL or "": no DESCRIPTION; may hold line breaks */
    const char *location;    /* NULL or "": no LOCATION; one line */
    const char *url;         /* NULL or "": no URL */
    struct ics_person organizer;
    const struct ics_person *attendees; /* 1 .. ICS_ATTENDEES_MAX */
    size_t n_attendees;
};

/*
 * Builds the invite's text (see above) in `arena`: *out receives the
 * NUL-terminated text and *len_out (may be NULL) its length in bytes. On
 * error nothing is written to *out or *len_out; BT_EINVAL or BT_ETOOBIG for
 * a field (see above), BT_ETOOBIG also when the arena's limit is reached.
 */
bt_err ics_invite_build(const struct ics_invite *invite, struct arena *arena, const char **out,
                        size_t *len_out, struct bt_error *e) BT_MUST_USE;

#endif
