/*
 * predict.c - predictive scoring speed on one core: a 400-tree, depth-5
 * XGBoost model over 50 features (numbers, category indicators, custom
 * fields and activity counts, 15% missing), trained here on synthetic rows,
 * converted into Baton's flat trees and walked with predict_margin.
 *
 *   build/bench/predict [--seconds 2] [--trees 400] [--depth 5] [--rows 20000]
 *
 * Prints predictions/s for predict_margin; the same for XGBoost's own
 * single-row prediction (XGBoosterPredictFromDense on one row, what a
 * scoring path would call per lead) and its batch prediction on one thread,
 * with the ratios; the largest margin difference between the two on the
 * test rows; and per-lead figures for the whole scoring-path call
 * (predict_reader_lead: features from the lead's attributes, custom fields
 * and activity facts, margin, calibration, explain and top factors) with a
 * fresh arena per lead as an engine command would have. Times are the
 * thread's CPU time (CLOCK_THREAD_CPUTIME_ID), so a busy machine does not
 * lower the per-core figures; training time is wall-clock.
 */
#include "core/predict.h"
#include "ml/xgb_model.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define COLS      50
#define TEST_ROWS 20000
#define N_LEADS   2000
#define NOW       1700000000000LL

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;

static double uniform(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (double)(rng_state >> 11) / 9007199254740992.0;
}

/* CPU time of this thread: "per core" figures that do not shrink when the
 * machine is shared and the thread waits for a core. */
static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *const industries[] = {"software", "retail", "manufacturing", "finance",
                                         "health",   "energy", "education",     "media"};
#define N_IND (sizeof(industries) / sizeof(industries[0]))

/* Columns: 0 employees, 1..8 industry indicators, 9 activity.demo.count,
 * 10 activity.web_visit.count, 11..49 fields.f11 .. fields.f49. */
static struct predict_feature features[COLS];
static char field_names[COLS][32];

static void make_features(void)
{
    features[0] = (struct predict_feature){"employees", PREDICT_NUMERIC, NULL};
    for (size_t i = 0; i < N_IND; i++)
        features[1 + i] = (struct predict_feature){"industry", PREDICT_CATEGORY, industries[i]};
    features[9] = (struct predict_feature){"activity.demo.count", PREDICT_NUMERIC, NULL};
    features[10] = (struct predict_feature){"activity.web_visit.count", PREDICT_NUMERIC, NULL};
    for (size_t c = 11; c < COLS; c++) {
        snprintf(field_names[c], sizeof(field_names[c]), "fields.f%zu", c);
        features[c] = (struct predict_feature){field_names[c], PREDICT_NUMERIC, NULL};
    }
}

/* One synthetic row and its label; `industry` is the lead's industry index. */
static float make_row(float *x, size_t *industry)
{
    for (size_t c = 0; c < COLS; c++)
        x[c] = (float)uniform();
    x[0] = (float)floor(uniform() * 5000);
    *industry = (size_t)(uniform() * N_IND);
    for (size_t i = 0; i < N_IND; i++)
        x[1 + i] = i == *industry ? 1.0f : 0.0f;
    x[9] = (float)floor(uniform() * 4);
    x[10] = (float)floor(uniform() * 30);
    for (size_t c = 11; c < COLS; c++)
        if (uniform() < 0.15)
            x[c] = NAN;
    double z = -2 + x[0] / 2500.0 + 0.6 * x[9] + 0.05 * x[10] + (*industry == 0 ? 1 : 0) +
               (isnan(x[11]) ? 0 : 2 * x[11] - 1) + (isnan(x[12]) ? -0.3 : sin(6 * x[12])) +
               (isnan(x[13]) || isnan(x[14]) ? 0 : x[13] * x[14]) + uniform() - 0.5;
    return uniform() < 1 / (1 + exp(-z)) ? 1.0f : 0.0f;
}

static size_t TRAIN_ROWS = 20000;

static BoosterHandle train(const float *x, const float *y, size_t rows, int trees, int depth)
{
    DMatrixHandle d;
    BoosterHandle b;
    char depth_text[16];
    snprintf(depth_text, sizeof(depth_text), "%d", depth);
    if (XGDMatrixCreateFromMat(x, rows, COLS, NAN, &d) ||
        XGDMatrixSetFloatInfo(d, "label", y, rows) || XGBoosterCreate(&d, 1, &b) ||
        XGBoosterSetParam(b, "objective", "binary:logistic") ||
        XGBoosterSetParam(b, "max_depth", depth_text) || XGBoosterSetParam(b, "eta", "0.05") ||
        XGBoosterSetParam(b, "tree_method", "hist") || XGBoosterSetParam(b, "nthread", "2")) {
        fprintf(stderr, "bench: XGBoost: %s\n", XGBGetLastError());
        exit(1);
    }
    for (int i = 0; i < trees; i++)
        if (XGBoosterUpdateOneIter(b, i, d)) {
            fprintf(stderr, "bench: XGBoost: %s\n", XGBGetLastError());
            exit(1);
        }
    XGDMatrixFree(d);
    return b;
}

/* XGBoost's prediction for one row, as a scoring path would call it. */
static float xgb_single(BoosterHandle b, const float *row)
{
    char array[160];
    snprintf(array, sizeof(array),
             "{\"data\": [%llu, true], \"shape\": [1, %d], \"typestr\": \"<f4\", \"version\": 3}",
             (unsigned long long)(uintptr_t)row, COLS);
    static const char config[] = "{\"type\": 1, \"training\": false, \"iteration_begin\": 0, "
                                 "\"iteration_end\": 0, \"strict_shape\": false, "
                                 "\"missing\": NaN, \"cache_id\": 0}";
    const bst_ulong *shape;
    bst_ulong dim;
    const float *out;
    if (XGBoosterPredictFromDense(b, array, config, NULL, &shape, &dim, &out)) {
        fprintf(stderr, "bench: XGBoost single-row prediction: %s\n", XGBGetLastError());
        exit(1);
    }
    return out[0];
}

static char *lead_fields(const float *x)
{
    char *buf = malloc(4096);
    size_t at = 0;
    at += (size_t)snprintf(buf + at, 4096 - at, "{");
    for (size_t c = 11; c < COLS; c++)
        if (!isnan(x[c]))
            at += (size_t)snprintf(buf + at, 4096 - at, "%s\"f%zu\":%.9g", at > 1 ? "," : "", c,
                                   (double)x[c]);
    snprintf(buf + at, 4096 - at, "}");
    return buf;
}

int main(int argc, char **argv)
{
    double seconds = 2;
    int trees = 400, depth = 5;
    static const struct option opts[] = {{"seconds", required_argument, NULL, 's'},
                                         {"trees", required_argument, NULL, 't'},
                                         {"depth", required_argument, NULL, 'd'},
                                         {"rows", required_argument, NULL, 'r'},
                                         {NULL, 0, NULL, 0}};
    for (int c; (c = getopt_long(argc, argv, "", opts, NULL)) != -1;) {
        if (c == 's')
            seconds = atof(optarg);
        else if (c == 't')
            trees = atoi(optarg);
        else if (c == 'd')
            depth = atoi(optarg);
        else if (c == 'r')
            TRAIN_ROWS = (size_t)atol(optarg);
        else {
            fprintf(stderr,
                    "usage: predict [--seconds S] [--trees N] [--depth D] [--rows TRAIN_ROWS]\n");
            return 2;
        }
    }
    make_features();
    float *train_x = malloc(sizeof(float) * TRAIN_ROWS * COLS),
          *train_y = malloc(sizeof(float) * TRAIN_ROWS);
    float *test_x = malloc(sizeof(float) * TEST_ROWS * COLS),
          *test_y = malloc(sizeof(float) * TEST_ROWS);
    size_t *test_ind = malloc(sizeof(size_t) * TEST_ROWS), ind;
    for (size_t i = 0; i < TRAIN_ROWS; i++)
        train_y[i] = make_row(&train_x[i * COLS], &ind);
    for (size_t i = 0; i < TEST_ROWS; i++)
        test_y[i] = make_row(&test_x[i * COLS], &test_ind[i]);

    struct timespec w0, w1;
    clock_gettime(CLOCK_MONOTONIC, &w0);
    BoosterHandle b = train(train_x, train_y, TRAIN_ROWS, trees, depth);
    clock_gettime(CLOCK_MONOTONIC, &w1);
    double t_train = (double)(w1.tv_sec - w0.tv_sec) + (double)(w1.tv_nsec - w0.tv_nsec) / 1e9;

    struct arena model_arena = ARENA_INIT;
    struct predict_model m;
    struct bt_error err = BT_ERROR_INIT;
    double t0 = now_seconds();
    if (xgb_model_convert(b, features, COLS, &model_arena, &m, &err)) {
        fprintf(stderr, "bench: convert: %s\n", err.message);
        return 1;
    }
    double t_convert = now_seconds() - t0;
    printf("model: %zu trees of depth <= %d, %zu nodes, %d features; trained on %zu rows in "
           "%.1f s (XGBoost hist, 2 threads), converted in %.1f ms\n",
           m.n_trees, depth, m.n_nodes, COLS, TRAIN_ROWS, t_train, t_convert * 1e3);

    /* Equality with XGBoost on the test rows. */
    double *ref = malloc(sizeof(double) * TEST_ROWS);
    if (xgb_model_predict_margins(b, test_x, TEST_ROWS, COLS, ref, &err)) {
        fprintf(stderr, "bench: %s\n", err.message);
        return 1;
    }
    double worst = 0;
    for (size_t i = 0; i < TEST_ROWS; i++) {
        double d = fabs(predict_margin(&m, &test_x[i * COLS]) - ref[i]);
        if (d > worst)
            worst = d;
    }
    printf("largest |baton - xgboost| margin on %d test rows: %.3g\n", TEST_ROWS, worst);

    /* predict_margin over the test rows, round after round. */
    volatile double sink = 0;
    size_t n = 0;
    t0 = now_seconds();
    double t;
    do {
        for (size_t i = 0; i < TEST_ROWS; i++)
            sink += predict_margin(&m, &test_x[i * COLS]);
        n += TEST_ROWS;
    } while ((t = now_seconds() - t0) < seconds);
    double ours = (double)n / t;
    printf("predict_margin:           %10.0f predictions/s per core, %6.0f ns each (%zu in "
           "%.1f s)\n",
           ours, 1e9 / ours, n, t);

    /* XGBoost, one row per call. */
    if (XGBoosterSetParam(b, "nthread", "1")) {
        fprintf(stderr, "bench: %s\n", XGBGetLastError());
        return 1;
    }
    n = 0;
    t0 = now_seconds();
    do {
        for (size_t i = 0; i < 1000; i++)
            sink += xgb_single(b, &test_x[((n + i) % TEST_ROWS) * COLS]);
        n += 1000;
    } while ((t = now_seconds() - t0) < seconds);
    double single = (double)n / t;
    printf("XGBoost single row:       %10.0f predictions/s per core, %6.0f ns each; "
           "predict_margin is %.1fx faster\n",
           single, 1e9 / single, ours / single);

    /* XGBoost, the whole matrix at once on one thread. */
    n = 0;
    t0 = now_seconds();
    do {
        if (xgb_model_predict_margins(b, test_x, TEST_ROWS, COLS, ref, &err)) {
            fprintf(stderr, "bench: %s\n", err.message);
            return 1;
        }
        n += TEST_ROWS;
    } while ((t = now_seconds() - t0) < seconds);
    double batch = (double)n / t;
    printf("XGBoost batch (1 thread): %10.0f predictions/s per core, %6.0f ns each; "
           "predict_margin is %.1fx faster\n",
           batch, 1e9 / batch, ours / batch);

    /* The scoring path: a lead in, probability and factors out. */
    struct lead *leads = calloc(N_LEADS, sizeof(*leads));
    struct activity_fact(*facts)[2] = calloc(N_LEADS, sizeof(*facts));
    for (size_t i = 0; i < N_LEADS; i++) {
        const float *x = &test_x[i * COLS];
        leads[i].employees = (int64_t)x[0];
        leads[i].attr[LEAD_INDUSTRY] = industries[test_ind[i]];
        leads[i].fields_json = lead_fields(x);
        facts[i][0] = (struct activity_fact){"demo", (int64_t)x[9], NOW - 86400000, NOW - 86400000};
        facts[i][1] = (struct activity_fact){"web_visit", (int64_t)x[10], NOW - 3600000,
                                             NOW - 86400000 * 5LL};
    }
    struct predict_reader *reader;
    if (predict_reader_new(&m, &reader, &err)) {
        fprintf(stderr, "bench: %s\n", err.message);
        return 1;
    }
    float x[COLS];
    double contrib[COLS];
    struct predict_result res;
    size_t factors = 0;
    n = 0;
    t0 = now_seconds();
    do {
        for (size_t i = 0; i < N_LEADS; i++) {
            struct arena a = ARENA_INIT;
            if (predict_reader_lead(reader, &leads[i], facts[i], leads[i].employees % 3 ? 2 : 1,
                                    NOW, &a, x, contrib, &res)) {
                fprintf(stderr, "bench: predict_reader_lead failed\n");
                return 1;
            }
            factors += res.n_positive + res.n_negative;
            arena_release(&a);
        }
        n += N_LEADS;
    } while ((t = now_seconds() - t0) < seconds);
    double per_lead = (double)n / t;
    printf("predict_reader_lead:      %10.0f leads/s per core, %6.0f ns each (features from "
           "attributes, %d custom fields and 2 activity facts; margin, calibration, explain, "
           "%.1f factors)\n",
           per_lead, 1e9 / per_lead, COLS - 11, (double)factors / (double)n);

    /* Its parts: features alone, explain alone. */
    n = 0;
    t0 = now_seconds();
    do {
        for (size_t i = 0; i < N_LEADS; i++) {
            struct arena a = ARENA_INIT;
            if (predict_reader_features(reader, &leads[i], facts[i], 2, NOW, &a, x))
                return 1;
            arena_release(&a);
        }
        n += N_LEADS;
    } while ((t = now_seconds() - t0) < seconds / 2);
    printf("  features alone:         %6.0f ns per lead\n", t * 1e9 / (double)n);
    n = 0;
    double bias;
    t0 = now_seconds();
    do {
        for (size_t i = 0; i < TEST_ROWS; i++)
            predict_explain(&m, &test_x[i * COLS], contrib, &bias);
        n += TEST_ROWS;
    } while ((t = now_seconds() - t0) < seconds / 2);
    printf("  explain alone:          %6.0f ns per row\n", t * 1e9 / (double)n);
    printf("target: >= 200000 predictions/s per core: %s\n", ours >= 200000 ? "met" : "NOT MET");

    predict_reader_free(reader);
    XGBoosterFree(b);
    arena_release(&model_arena);
    (void)sink;
    return 0;
}
