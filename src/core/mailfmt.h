/*
 * mailfmt.h - the header values of an outgoing mail that libcurl's MIME API
 * takes as finished text: Subject and other free text (RFC 2047
 * encoded-words), From/To with a display name (RFC 5322 name-addr), Date
 * and Message-ID.
 *
 * Header text:
 *   - Printable ASCII (space to '~') is written as it is, unless it holds
 *     "=?", which a mail reader could take for the start of an encoded-word.
 *   - Anything else (non-ASCII, a tab, "=?") is written whole as
 *     "=?UTF-8?B?...?=" encoded-words: each at most MAILFMT_WORD_MAX (75)
 *     characters, each holding whole UTF-8 characters only, separated by a
 *     fold (CRLF and a space: RFC 5322 folding white space, which readers
 *     drop between encoded-words). Every line of such a value is at most
 *     MAILFMT_LINE_MAX (76) characters, the first one counting the `used`
 *     characters the caller has already put before it ("Subject: " is 9).
 *     Encoding the whole text, not only its non-ASCII words, is what keeps
 *     the spaces between words exact, since readers drop the white space
 *     between two encoded-words.
 * The input is refused when it is not valid UTF-8, holds a CR or LF (a
 * header injection: BT_EINVAL says so), or another control character, or is
 * longer than MAILFMT_TEXT_MAX bytes (BT_ETOOBIG). So a value never holds a
 * line break except the folds written here, and never a line of more than
 * 998 characters.
 *
 * Outputs that vary in length are allocated in the caller's arena (freed
 * with it); NULL from the arena is BT_ETOOBIG. Pure: no I/O, no clock (times
 * are arguments), no globals, no randomness (the Message-ID's unique part
 * is an argument).
 */
#ifndef BT_CORE_MAILFMT_H
#define BT_CORE_MAILFMT_H

#include "util/arena.h"
#include "util/err.h"

#include <stddef.h>
#include <stdint.h>

#define MAILFMT_TEXT_MAX    900 /* bytes of header text or of a display name */
#define MAILFMT_WORD_MAX    75  /* characters of one encoded-word (RFC 2047) */
#define MAILFMT_LINE_MAX    76  /* characters of a line holding encoded-words */
#define MAILFMT_ADDRESS_MAX 254 /* bytes of an address (RFC 5321's path limit) */
#define MAILFMT_ID_PART_MAX 64  /* bytes of the id and of the unique part of a Message-ID */
#define MAILFMT_DOMAIN_MAX  253
/* "Tue, 01 Dec 2026 09:00:00 +0000" */
#define MAILFMT_DATE_LEN 31
/* The fold written between encoded-words. */
#define MAILFMT_FOLD "\r\n "

/*
 * The header value for the free text `text` (NUL-terminated UTF-8: a
 * Subject, say), as described at the top, into *out (the arena's).
 * used is the number of characters already on the header's first line,
 * name and ": " included. Returns BT_OK; BT_EINVAL (field "text") or
 * BT_ETOOBIG as described at the top, *out NULL then.
 */
BT_MUST_USE bt_err mailfmt_header_text(struct arena *a, const char *text, size_t used,
                                       const char **out, struct bt_error *err);

/*
 * An address with an optional display name, for From, To, Reply-To:
 *
 *     jane@example.com                      no name (NULL or "")
 *     Jane Doe <jane@example.com>           words of atext separated by spaces
 *     "Doe, Jane \"JD\"" <jane@example.com> printable ASCII that needs quoting
 *                                           (specials, dots, runs of spaces, "=?")
 *     =?UTF-8?B?Wm/DqyDDhW5nc3Ryw7Zt?= <zoe@example.com>   anything else
 *
 * An encoded name follows the rules of mailfmt_header_text (used counts
 * the characters before it on the line), and the address goes after a
 * fold when it would make the last line longer than MAILFMT_LINE_MAX.
 * The address is checked minimally: 3..MAILFMT_ADDRESS_MAX printable ASCII
 * characters, no spaces, exactly one '@' with something on each side, none
 * of < > ( ) [ ] , ; : \ " (which would change how the header parses).
 * Returns BT_OK; BT_EINVAL with field "address" or "name", or BT_ETOOBIG,
 * *out NULL then.
 */
BT_MUST_USE bt_err mailfmt_address(struct arena *a, const char *display_name, const char *address,
                                   size_t used, const char **out, struct bt_error *err);

/*
 * The RFC 5322 Date value of the instant ms (Unix milliseconds, rounded
 * down to the second), in UTC: "Tue, 01 Dec 2026 09:00:00 +0000", and a
 * NUL, into out. Returns BT_OK, or BT_EINVAL for an instant before
 * 1900-01-01 or after 9999-12-31 (RFC 5322 has four-digit years from 1900);
 * out is "" then.
 */
BT_MUST_USE bt_err mailfmt_date(int64_t ms, char out[MAILFMT_DATE_LEN + 1], struct bt_error *err);

/*
 * The Message-ID value "<baton.{id}.{unique}@{domain}>" into *out (the
 * arena's). id names what the mail is about (e.g. an outbox row's id in
 * decimal), unique makes the mail unique (e.g. random hex the caller
 * draws, or an attempt's id), domain is the sender's. Each is a dot-atom
 * (RFC 5322 atext characters and dots, not at either end nor two in a row);
 * id and unique are at most MAILFMT_ID_PART_MAX bytes, domain at most
 * MAILFMT_DOMAIN_MAX. Returns BT_OK, or BT_EINVAL with the field's name
 * ("id", "unique", "domain"), *out NULL then.
 */
BT_MUST_USE bt_err mailfmt_message_id(struct arena *a, const char *id, const char *unique,
                                      const char *domain, const char **out, struct bt_error *err);

#endif
