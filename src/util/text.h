/*
 * text.h - checks on text that comes from outside: UTF-8 validity, control
 * characters, and small helpers for bounded string building.
 */
#ifndef BT_TEXT_H
#define BT_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The offset of the first byte of s[0..len) that is not part of well-formed
 * UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF), or len. */
size_t utf8_invalid_at(const char *s, size_t len);

/* Characters (code points) in valid UTF-8 text: what "at most N
 * characters" counts. */
size_t utf8_length(const char *s);

/* True when s[0..len) is well-formed UTF-8. */
bool utf8_valid(const char *s, size_t len);

/* Replaces, in place, every byte of `s` that is not part of well-formed
 * UTF-8 with '?', and cuts a character split by truncation at the end, so
 * that text built from client input (an error message quoting a path, a
 * header, a %.64s field name) can always be encoded as JSON. */
void text_make_utf8(char *s);

/* Writes the UTF-8 encoding of code point `cp` (at most U+10FFFF, not a
 * surrogate) into out (4 bytes of room) and returns its length. */
size_t utf8_encode(uint32_t cp, char *out);

/* The value of a hexadecimal digit, or -1. */
int text_hex_value(char c);

/* The value of the `digits` hex digits at s (at most 8), or false when one
 * is not a hex digit (a NUL stops it). */
bool text_hex_digits(const char *s, size_t digits, uint32_t *out);

/*
 * The \uXXXX escape at s[0..len) (s[0] is the backslash, s[1] the 'u') of
 * JSON and of rule strings: returns the bytes it takes, 6, or 12 when a high
 * surrogate is followed by a \u escape of a low one (the pair gives one code
 * point), and the code point in *cp. A lone surrogate (0xD800..0xDFFF) is
 * returned as it is, for the caller to refuse or replace. 0 when the four
 * hex digits are not there.
 */
size_t text_unescape_u(const char *s, size_t len, uint32_t *cp);

/* True when `s` contains a C0 control character other than tab, CR and LF,
 * or DEL. Such characters are rejected in single-line attributes. */
bool text_has_control(const char *s);

/* True when every byte of `s` is printable ASCII (space to '~'): header
 * values that are ids (Idempotency-Key). */
bool text_is_printable_ascii(const char *s);

/* Copies `s` into `dst` (size n, n > 0), truncating; always terminated. */
void text_copy(char *dst, size_t n, const char *s);

#endif
