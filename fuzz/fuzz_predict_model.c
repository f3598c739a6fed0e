/*
 * fuzz_predict_model.c - libFuzzer target: the input as a stored model's
 * JSON through predict_model_from_json. When it is accepted, the model
 * predicts and explains a few vectors (zeros, NaN everywhere, extremes and
 * values taken from the input) without crashing or looping; the
 * probability is in [0, 1] (or NaN for a NaN margin); and writing it out and
 * reading it back gives a model with the same margins.
 */
#include "core/predict.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ARENA_LIMIT (64u << 20)

static void fill(float *x, size_t n, int pattern, const uint8_t *data, size_t size)
{
    for (size_t i = 0; i < n; i++) {
        switch (pattern) {
        case 0:
            x[i] = 0;
            break;
        case 1:
            x[i] = NAN;
            break;
        case 2:
            x[i] = i % 2 ? 3.4e38f : -3.4e38f;
            break;
        case 3:
            x[i] = i % 3 == 0 ? NAN : (float)i - 1.5f;
            break;
        default: {
            uint8_t b = size ? data[i % size] : 0;
            x[i] = b < 32 ? NAN : (float)(b - 128) / 8.0f;
        }
        }
    }
}

static bool same(double a, double b)
{
    return a == b || (isnan(a) && isnan(b));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *j = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
    if (!j)
        return 0;
    struct arena a = ARENA_INIT;
    a.limit = ARENA_LIMIT;
    struct predict_model m;
    struct bt_error err = BT_ERROR_INIT;
    bt_err rc = predict_model_from_json(j, &a, &m, &err);
    json_decref(j);
    if (rc) {
        if ((rc != BT_EINVAL && rc != BT_ETOOBIG) || err.message[0] == '\0')
            abort(); /* a refusal says why */
        arena_release(&a);
        return 0;
    }
    if (predict_model_check(&m, NULL))
        abort(); /* the reader accepted what the check refuses */
    size_t n = m.n_features ? m.n_features : 1;
    float *x = malloc(n * sizeof(*x));
    double *c = malloc(n * sizeof(*c));
    json_t *out = predict_model_to_json(&m);
    struct predict_model back;
    if (predict_model_from_json(out, &a, &back, &err))
        abort(); /* what we write, we read */
    json_decref(out);
    struct predict_model plain = m;
    plain.fast = NULL;
    for (int pattern = 0; pattern < 5; pattern++) {
        fill(x, n, pattern, data, size);
        double margin = predict_margin(&m, x);
        double p = predict_probability(&m, margin);
        if (!(isnan(p) || (p >= 0 && p <= 1)))
            abort();
        if (!same(margin, predict_margin(&back, x)) || !same(margin, predict_margin(&plain, x)))
            abort();
        double bias;
        predict_explain(&m, x, c, &bias);
    }
    free(x);
    free(c);
    arena_release(&a);
    return 0;
}
