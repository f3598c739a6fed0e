/*
 * store_backend.h - what a database backend implements (internal to store/).
 *
 * store.c owns the generic parts (choosing the backend from the location,
 * the reader pool, argument checks) and forwards every call to the ops table
 * of the connection. A backend's connection struct starts with
 * `struct store_conn` so that store.c can reach the ops.
 */
#ifndef BT_STORE_BACKEND_H
#define BT_STORE_BACKEND_H

#include "store/store.h"
#include "store/store_handoff.h"
#include "store/store_models.h"
#include "store/store_outbox.h"
#include "store/store_reports.h"
#include "store/store_routing.h"

struct store_ops {
    const char *name;
    bt_err (*open)(const char *location, const struct store_options *opts, void **db,
                   struct bt_error *err);
    void (*close)(void *db);
    bt_err (*conn_open)(void *db, struct store_conn **out, struct bt_error *err);
    void (*conn_close)(struct store_conn *c);
    bt_err (*ping)(struct store_conn *c, struct bt_error *err);
    bt_err (*exec)(struct store_conn *c, int what, struct bt_error *err); /* enum store__tx */
    bt_err (*lead_get)(struct store_conn *c, int by, const char *key, int64_t id, struct arena *a,
                       struct lead *out, struct bt_error *err);
    bt_err (*lead_insert)(struct store_conn *c, struct lead *lead, struct bt_error *err);
    bt_err (*lead_update)(struct store_conn *c, const struct lead *lead, struct bt_error *err);
    bt_err (*lead_list)(struct store_conn *c, const struct lead_filter *f, struct arena *a,
                        struct lead **out, size_t *count, struct bt_error *err);
    bt_err (*event_append)(struct store_conn *c, struct lead_event *ev, struct bt_error *err);
    bt_err (*event_list)(struct store_conn *c, int64_t lead_id, int64_t after_id, unsigned limit,
                         struct arena *a, struct lead_event **out, size_t *count,
                         struct bt_error *err);
    bt_err (*idempotency_get)(struct store_conn *c, const char *key, struct arena *a,
                              int64_t *lead_id, const char **fingerprint, struct bt_error *err);
    bt_err (*idempotency_put)(struct store_conn *c, const char *key, int64_t lead_id,
                              const char *fingerprint, int64_t now, struct bt_error *err);
    bt_err (*key_insert)(struct store_conn *c, struct api_key *key, struct bt_error *err);
    bt_err (*key_find_active)(struct store_conn *c, const char *hash, struct arena *a,
                              struct api_key *out, struct bt_error *err);
    bt_err (*key_list)(struct store_conn *c, struct arena *a, struct api_key **out, size_t *count,
                       struct bt_error *err);
    bt_err (*key_revoke)(struct store_conn *c, int64_t id, int64_t now, struct bt_error *err);
    bt_err (*key_count)(struct store_conn *c, int64_t *count, struct bt_error *err);
    bt_err (*activity_insert)(struct store_conn *c, struct activity *act, int64_t now,
                              struct bt_error *err);
    bt_err (*activity_list)(struct store_conn *c, int64_t lead_id, unsigned limit, struct arena *a,
                            struct activity **out, size_t *count, struct bt_error *err);
    bt_err (*rescore_due)(struct store_conn *c, int64_t now, unsigned limit, struct arena *a,
                          int64_t **ids, size_t *count, struct bt_error *err);
    bt_err (*rescore_set)(struct store_conn *c, int64_t lead_id, int64_t at, struct bt_error *err);
    bt_err (*in_transaction)(struct store_conn *c);
    bt_err (*outcome_insert)(struct store_conn *c, const struct lead_outcome *o,
                             struct bt_error *err);
    bt_err (*history_each)(struct store_conn *c, const char *target, int64_t since, int64_t until,
                           struct arena *scratch, store_history_fn fn, void *cls,
                           struct bt_error *err);
    const struct store_routing_ops *routing;
    const struct store_account_ops *accounts;
    const struct store_work_ops *work;
    const struct store_handoff_ops *handoff;
    const struct store_report_ops *reports;
    const struct store_outbox_ops *outbox;
    const struct store_model_ops *models;
};

enum store__tx {
    STORE__BEGIN,
    STORE__COMMIT,
    STORE__ROLLBACK,
    STORE__SAVEPOINT,
    STORE__RELEASE,
    STORE__ROLLBACK_TO
};

enum store__lead_by { STORE__BY_ID, STORE__BY_EMAIL, STORE__BY_EXTERNAL_ID };

struct store_conn {
    const struct store_ops *ops;
    struct store_conn *next_free; /* reader pool link */
};

/* store_routing.h, forwarded by store_routing.c */
struct store_routing_ops {
    bt_err (*rep_runtime_get)(struct store_conn *c, const char *rep_id, int64_t now,
                              struct arena *a, struct rep_runtime *out, struct bt_error *err);
    bt_err (*rep_status_set)(struct store_conn *c, const char *rep_id, enum rep_status status,
                             const char *reason, int64_t until, int64_t now, struct bt_error *err);
    bt_err (*rep_counts_set)(struct store_conn *c, const char *rep_id, int64_t day_start,
                             int64_t day_count, int64_t week_start, int64_t week_count, int64_t now,
                             struct bt_error *err);
    bt_err (*time_off_add)(struct store_conn *c, struct store_time_off *t, struct bt_error *err);
    bt_err (*time_off_delete)(struct store_conn *c, const char *rep_id, int64_t id,
                              struct bt_error *err);
    bt_err (*time_off_find)(struct store_conn *c, const char *rep_id, int64_t from, int64_t to,
                            int64_t *id, struct bt_error *err);
    bt_err (*time_off_list)(struct store_conn *c, const char *rep_id, int64_t after,
                            struct arena *a, struct store_time_off **out, size_t *count,
                            struct bt_error *err);
    bt_err (*rep_event_append)(struct store_conn *c, const char *rep_id, const char *type,
                               const char *actor, const char *reason, const char *data_json,
                               int64_t at, struct bt_error *err);
    bt_err (*reps_freed)(struct store_conn *c, int64_t from, int64_t to, struct arena *a,
                         const char ***ids, size_t *count, struct bt_error *err);
    bt_err (*rep_next_change)(struct store_conn *c, int64_t now, int64_t *out,
                              struct bt_error *err);
    bt_err (*pool_state_get)(struct store_conn *c, const char *pool_id, struct arena *a,
                             const char **json, struct bt_error *err);
    bt_err (*pool_state_put)(struct store_conn *c, const char *pool_id, const char *json,
                             int64_t now, struct bt_error *err);
    bt_err (*decision_insert)(struct store_conn *c, struct store_decision *d, struct bt_error *err);
    bt_err (*decision_latest)(struct store_conn *c, int64_t lead_id, struct arena *a,
                              struct store_decision *out, struct bt_error *err);
    bt_err (*config_version_put)(struct store_conn *c, const char *version, const char *text,
                                 size_t len, int64_t at, struct bt_error *err);
    bt_err (*config_version_get)(struct store_conn *c, const char *version, struct arena *a,
                                 const char **text, size_t *len, struct bt_error *err);
    bt_err (*hold_put)(struct store_conn *c, const struct store_hold *h, struct bt_error *err);
    bt_err (*hold_remove)(struct store_conn *c, int64_t lead_id, struct bt_error *err);
    bt_err (*hold_list)(struct store_conn *c, unsigned limit, const struct store_hold *after,
                        struct arena *a, struct store_hold **out, size_t *count,
                        struct bt_error *err);
    bt_err (*hold_list_woken)(struct store_conn *c, const char *const *wakes, size_t n_wakes,
                              unsigned limit, const struct store_hold *after, struct arena *a,
                              struct store_hold **out, size_t *count, struct bt_error *err);
    bt_err (*hold_count)(struct store_conn *c, int64_t *count, struct bt_error *err);
    bt_err (*hold_summary)(struct store_conn *c, int64_t *count, int64_t *oldest_since,
                           struct bt_error *err);
    bt_err (*hold_get)(struct store_conn *c, int64_t lead_id, struct arena *a, bool *held,
                       struct store_hold *h, struct bt_error *err);
    bt_err (*exclusion_add)(struct store_conn *c, int64_t lead_id, const char *rep_id,
                            const char *reason, int64_t at, struct bt_error *err);
    bt_err (*exclusion_list)(struct store_conn *c, int64_t lead_id, struct arena *a,
                             struct store_exclusion **out, size_t *count, struct bt_error *err);
    bt_err (*lead_set_account)(struct store_conn *c, int64_t lead_id, const char *account_id,
                               const char *match_json, struct bt_error *err);
};

extern const struct store_routing_ops store__sqlite_routing_ops;

/* The accounts section of store.h, forwarded by store.c */
struct store_account_ops {
    bt_err (*upsert)(struct store_conn *c, struct store_account *accounts, size_t n, int64_t now,
                     enum store_account_outcome *outcomes, struct bt_error *err);
    bt_err (*get)(struct store_conn *c, const char *id, struct arena *a, struct store_account *out,
                  struct bt_error *err);
    bt_err (*list)(struct store_conn *c, const char *after, unsigned limit, struct arena *a,
                   struct store_account **out, size_t *count, struct bt_error *err);
    bt_err (*each)(struct store_conn *c, store_account_fn fn, void *cls, struct bt_error *err);
    bt_err (*count)(struct store_conn *c, int64_t *count, struct bt_error *err);
    bt_err (*version)(struct store_conn *c, int64_t *version, struct bt_error *err);
};

extern const struct store_account_ops store__sqlite_account_ops;

/* The shared-work section of store.h (claims, next deadlines), forwarded by store.c */
struct store_work_ops {
    bt_err (*claim)(struct store_conn *c, const char *kind, const char *key, const char *holder,
                    int64_t now, int64_t lease_ms, bool *got, struct bt_error *err);
    bt_err (*claim_release)(struct store_conn *c, const char *kind, const char *key,
                            const char *holder, struct bt_error *err);
    bt_err (*next_rescore)(struct store_conn *c, int64_t *at, struct bt_error *err);
};

extern const struct store_work_ops store__sqlite_work_ops;

/* store_handoff.h, forwarded by store_handoff.c */
struct store_handoff_ops {
    bt_err (*insert)(struct store_conn *c, struct store_assignment *a, struct bt_error *err);
    bt_err (*update)(struct store_conn *c, const struct store_assignment *a, struct bt_error *err);
    bt_err (*get)(struct store_conn *c, int64_t id, struct arena *a, struct store_assignment *out,
                  struct bt_error *err);
    bt_err (*live)(struct store_conn *c, int64_t lead_id, struct arena *a, bool *found,
                   struct store_assignment *out, struct bt_error *err);
    bt_err (*attempts)(struct store_conn *c, int64_t lead_id, int64_t *count, struct bt_error *err);
    bt_err (*list_lead)(struct store_conn *c, int64_t lead_id, int64_t after_id, unsigned limit,
                        struct arena *a, struct store_assignment **out, size_t *count,
                        struct bt_error *err);
    bt_err (*list)(struct store_conn *c, const struct store_assignment_filter *f, struct arena *a,
                   struct store_assignment **out, size_t *count, struct bt_error *err);
    bt_err (*offers)(struct store_conn *c, int64_t offer_group, struct arena *a,
                     struct store_assignment **out, size_t *count, struct bt_error *err);
    bt_err (*due)(struct store_conn *c, int64_t now, unsigned limit, struct arena *a,
                  struct store_assignment **out, size_t *count, struct bt_error *err);
    bt_err (*next_due)(struct store_conn *c, int64_t *at, struct bt_error *err);
    bt_err (*rejections)(struct store_conn *c, const char *rep_id, int64_t since, int64_t *count,
                         struct bt_error *err);
    bt_err (*expired_run)(struct store_conn *c, const char *rep_id, int64_t *count,
                          struct bt_error *err);
    bt_err (*open_counts)(struct store_conn *c, int64_t counts[ASSIGNMENT_STATUSES],
                          struct bt_error *err);
    bt_err (*status_counts)(struct store_conn *c, int64_t counts[ASSIGNMENT_STATUSES],
                            struct bt_error *err);
    bt_err (*secret_get)(struct store_conn *c, uint32_t generation, bool *found,
                         uint32_t *generation_out, uint8_t secret[LINK_SECRET_BYTES],
                         struct bt_error *err);
    bt_err (*secret_add)(struct store_conn *c, const uint8_t secret[LINK_SECRET_BYTES], int64_t now,
                         uint32_t *generation, struct bt_error *err);
};

extern const struct store_handoff_ops store__sqlite_handoff_ops;

/* store_reports.h, forwarded by store_reports.c */
struct store_report_ops {
    bt_err (*assignments)(struct store_conn *c, const struct store_report_filter *f,
                          store_report_assignment_fn fn, void *cls, struct bt_error *err);
    bt_err (*funnel)(struct store_conn *c, const struct store_report_filter *f,
                     store_report_funnel_fn fn, void *cls, struct bt_error *err);
    bt_err (*assignment_days)(struct store_conn *c, const struct store_report_filter *f,
                              store_report_assignment_day_fn fn, void *cls, struct bt_error *err);
    bt_err (*rejection_days)(struct store_conn *c, const struct store_report_filter *f,
                             store_report_rejection_fn fn, void *cls, struct bt_error *err);
    bt_err (*speed_days)(struct store_conn *c, const struct store_report_filter *f,
                         store_report_speed_day_fn fn, void *cls, struct bt_error *err);
    bt_err (*funnel_days)(struct store_conn *c, const struct store_report_filter *f,
                          store_report_funnel_day_fn fn, void *cls, struct bt_error *err);
    bt_err (*dark_leads)(struct store_conn *c, const struct store_report_filter *f, bool contacted,
                         unsigned limit, store_report_funnel_fn fn, void *cls,
                         struct bt_error *err);
    bt_err (*decision_days)(struct store_conn *c, const struct store_report_filter *f,
                            store_report_decision_day_fn fn, void *cls, struct bt_error *err);
    bt_err (*decisions)(struct store_conn *c, const struct store_report_filter *f,
                        store_report_decision_fn fn, void *cls, struct bt_error *err);
    bt_err (*holds)(struct store_conn *c, struct arena *a, struct store_report_hold_group **out,
                    size_t *count, struct bt_error *err);
    bt_err (*held_longest)(struct store_conn *c, unsigned limit, struct arena *a,
                           struct store_report_held **out, size_t *count, struct bt_error *err);
};
extern const struct store_report_ops store__sqlite_report_ops;

/* store_outbox.h, forwarded by store_outbox.c */
struct store_outbox_ops {
    bt_err (*insert)(struct store_conn *c, struct store_outbox_row *row, struct bt_error *err);
    bt_err (*get)(struct store_conn *c, int64_t id, struct arena *a, struct store_outbox_row *out,
                  struct bt_error *err);
    bt_err (*claim)(struct store_conn *c, const char *channel, const char *node, int64_t now,
                    int64_t lease_ms, unsigned limit, struct arena *a,
                    struct store_outbox_row **rows, size_t *n, struct bt_error *err);
    bt_err (*next_due)(struct store_conn *c, const char *channel, int64_t *at,
                       struct bt_error *err);
    bt_err (*record)(struct store_conn *c, int64_t id, const char *node,
                     const struct store_delivery_attempt *attempt, const char *status,
                     int64_t next_attempt_at, bool *applied, struct bt_error *err);
    bt_err (*attempts)(struct store_conn *c, int64_t outbox_id, unsigned limit, struct arena *a,
                       struct store_delivery_attempt **out, size_t *n, struct bt_error *err);
    bt_err (*list)(struct store_conn *c, const struct store_outbox_filter *f, unsigned limit,
                   struct arena *a, struct store_outbox_row **rows, size_t *n,
                   struct bt_error *err);
    bt_err (*retry)(struct store_conn *c, int64_t id, int64_t now, bool *found, bool *changed,
                    struct bt_error *err);
    bt_err (*replay)(struct store_conn *c, int64_t since, int64_t until, const char *channel,
                     const char *statuses, int64_t now, int64_t *count, struct bt_error *err);
    bt_err (*hold_channel)(struct store_conn *c, const char *channel, int64_t *count,
                           struct bt_error *err);
    bt_err (*counts)(struct store_conn *c, const char *channel, int64_t counts[OUTBOX_STATUSES],
                     int64_t *oldest_waiting, struct bt_error *err);
    bt_err (*channel_get)(struct store_conn *c, const char *id, struct arena *a,
                          struct store_delivery_channel *out, bool *found, struct bt_error *err);
    bt_err (*channel_put)(struct store_conn *c, const struct store_delivery_channel *ch,
                          struct bt_error *err);
    bt_err (*channel_list)(struct store_conn *c, struct arena *a,
                           struct store_delivery_channel **out, size_t *n, struct bt_error *err);
    bt_err (*task_insert)(struct store_conn *c, struct store_task *t, struct bt_error *err);
    bt_err (*task_get)(struct store_conn *c, int64_t id, struct arena *a, struct store_task *out,
                       struct bt_error *err);
    bt_err (*task_done)(struct store_conn *c, int64_t id, int64_t at, const char *by,
                        struct bt_error *err);
    bt_err (*task_list)(struct store_conn *c, const char *rep_id, bool done, unsigned offset,
                        unsigned limit, struct arena *a, struct store_task **out, size_t *n,
                        struct bt_error *err);
    bt_err (*task_meetings)(struct store_conn *c, const char *rep_id, int64_t from, unsigned limit,
                            int64_t (*out)[2], size_t *n, struct bt_error *err);
};
extern const struct store_outbox_ops store__sqlite_outbox_ops;

/* store_models.h's models table, forwarded by store_models.c */
struct store_model_ops {
    bt_err (*insert)(struct store_conn *c, struct store_model *m, struct bt_error *err);
    bt_err (*get)(struct store_conn *c, int64_t id, struct arena *a, struct store_model *out,
                  struct bt_error *err);
    bt_err (*get_by_version)(struct store_conn *c, const char *version, struct arena *a,
                             struct store_model *out, struct bt_error *err);
    bt_err (*active)(struct store_conn *c, struct arena *a, struct store_model *out,
                     struct bt_error *err);
    bt_err (*list)(struct store_conn *c, struct arena *a, struct store_model **out, size_t *count,
                   struct bt_error *err);
    bt_err (*activate)(struct store_conn *c, int64_t id, int64_t now, struct bt_error *err);
    bt_err (*deactivate)(struct store_conn *c, struct bt_error *err);
};
extern const struct store_model_ops store__sqlite_model_ops;

extern const struct store_ops store__sqlite_ops;

#endif
