/*
 * bench/train.c - training time and held-out quality on the UCI bank
 * marketing data (the split: drop `duration`, first 80 % of rows
 * to train, last 20 % to test), through the same trainer as `baton train`
 * (ml/train.h) but reading the CSV directly, so no database is needed.
 *
 *   build/bench/train [bank-additional-full.csv]
 *
 * Rows become leads with every column as fields.NAME (numbers as JSON
 * numbers), created and qualified one minute apart in file order.
 */
#include "ml/train.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LINE_MAX_BYTES 4096
#define COLS_MAX       32

static size_t split(char *line, char **cols)
{
    size_t n = 0;
    char *s = line;
    while (n < COLS_MAX) {
        char *end = strchr(s, ';');
        if (end)
            *end = '\0';
        size_t len = strlen(s);
        while (len && (s[len - 1] == '\n' || s[len - 1] == '\r'))
            s[--len] = '\0';
        if (len >= 2 && s[0] == '"' && s[len - 1] == '"') {
            s[len - 1] = '\0';
            s++;
        }
        cols[n++] = s;
        if (!end)
            break;
        s = end + 1;
    }
    return n;
}

int main(int argc, char **argv)
{
    const char *path =
        argc > 1 ? argv[1] : "../shared/data/uci_bank_marketing/bank-additional-full.csv";
    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        return 1;
    }
    char line[LINE_MAX_BYTES], header[LINE_MAX_BYTES];
    char *names[COLS_MAX], *cols[COLS_MAX];
    if (!fgets(header, sizeof(header), f)) {
        fprintf(stderr, "%s: empty\n", path);
        return 1;
    }
    size_t nc = split(header, names);
    struct dataset ds;
    dataset_init(&ds);
    struct bt_error err = BT_ERROR_INIT;
    int64_t t = 1210000000000; /* May 2008 */
    while (fgets(line, sizeof(line), f)) {
        if (split(line, cols) != nc)
            continue;
        json_t *fields = json_object();
        int label = 0;
        for (size_t i = 0; i < nc; i++) {
            if (!strcmp(names[i], "duration"))
                continue;
            if (!strcmp(names[i], "y")) {
                label = !strcmp(cols[i], "yes");
                continue;
            }
            char *end;
            double v = strtod(cols[i], &end);
            json_object_set_new(fields, names[i],
                                *cols[i] && !*end ? json_real(v) : json_string(cols[i]));
        }
        char *fj = json_dumps(fields, JSON_COMPACT);
        json_decref(fields);
        struct lead l;
        memset(&l, 0, sizeof(l));
        l.id = (int64_t)ds.n + 1;
        l.employees = -1;
        l.fields_json = fj;
        l.created_at = l.updated_at = t;
        if (dataset_add(&ds, &l, t, label, NULL, 0, &err)) {
            fprintf(stderr, "%s\n", err.message);
            return 1;
        }
        free(fj);
        t += 60000;
    }
    fclose(f);
    struct train_options o = TRAIN_OPTIONS_INIT;
    o.now = t;
    struct arena a = ARENA_INIT;
    struct train_result r;
    if (train_dataset(&ds, &o, &a, &r, &err)) {
        fprintf(stderr, "train: %s\n", err.message);
        return 1;
    }
    json_t *m = json_loads(r.model.metrics, 0, NULL);
    json_t *test = json_object_get(m, "test");
    printf("UCI bank marketing: %zu rows, trained on %lld, held out %lld (%s, blend %.1f)\n", ds.n,
           (long long)r.model.n_train, (long long)r.model.n_test, r.model.kind, r.blend);
    printf("%-10s %8s %8s %8s\n", "", "ROC-AUC", "PR-AUC", "Brier");
    const char *who[] = {"model", "logistic", "xgboost", "additive"};
    for (size_t i = 0; i < 4; i++) {
        json_t *e = json_object_get(test, who[i]);
        printf("%-10s %8.4f %8.4f %8.4f\n", who[i],
               json_number_value(json_object_get(e, "roc_auc")),
               json_number_value(json_object_get(e, "pr_auc")),
               json_number_value(json_object_get(e, "brier")));
    }
    printf("validation: %s\n", json_dumps(json_object_get(m, "validation"), JSON_COMPACT));
    printf("training seconds: %.2f\n", r.seconds);
    json_decref(m);
    arena_release(&a);
    dataset_release(&ds);
    return 0;
}
