/*
 * openapi.h - the API's description, docs/openapi.yaml, built into the
 * binary and served as JSON at GET /v1/openapi.json (no key).
 *
 * The YAML file is embedded at build time as it is in the repository (one
 * source of truth: the tests validate every reply against the same file)
 * and turned into JSON once, with libfyaml reading it and jansson writing
 * it; plain scalars follow YAML 1.2's core schema (null, true/false,
 * integers, floats; everything else is a string).
 */
#ifndef BT_OPENAPI_H
#define BT_OPENAPI_H

#include "util/err.h"

#include <stddef.h>

/* The embedded YAML text and its length. */
const char *openapi_yaml(size_t *len);

/* The description as compact JSON text (built on first use, kept for the
 * process's life; thread-safe), or NULL with the reason in *err when the
 * embedded text is not a YAML mapping. */
const char *openapi_json(struct bt_error *err);

#endif
