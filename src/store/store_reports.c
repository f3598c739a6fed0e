/*
 * store_reports.c - forwards store_reports.h to the connection's backend.
 */
#include "store/store_backend.h"

bt_err store_report_assignments(struct store_conn *c, const struct store_report_filter *f,
                                store_report_assignment_fn fn, void *cls, struct bt_error *err)
{
    return c->ops->reports->assignments(c, f, fn, cls, err);
}

bt_err store_report_funnel(struct store_conn *c, const struct store_report_filter *f,
                           store_report_funnel_fn fn, void *cls, struct bt_error *err)
{
    return c->ops->reports->funnel(c, f, fn, cls, err);
}

bt_err store_report_decisions(struct store_conn *c, const struct store_report_filter *f,
                              store_report_decision_fn fn, void *cls, struct bt_error *err)
{
    return c->ops->reports->decisions(c, f, fn, cls, err);
}

bt_err store_report_holds(struct store_conn *c, struct arena *a,
                          struct store_report_hold_group **out, size_t *count, struct bt_error *err)
{
    return c->ops->reports->holds(c, a, out, count, err);
}

bt_err store_report_held_longest(struct store_conn *c, unsigned limit, struct arena *a,
                                 struct store_report_held **out, size_t *count,
                                 struct bt_error *err)
{
    return c->ops->reports->held_longest(c, limit, a, out, count, err);
}

bt_err store_report_assignment_days(struct store_conn *c, const struct store_report_filter *f,
                                    store_report_assignment_day_fn fn, void *cls,
                                    struct bt_error *err)
{
    return c->ops->reports->assignment_days(c, f, fn, cls, err);
}

bt_err store_report_rejection_days(struct store_conn *c, const struct store_report_filter *f,
                                   store_report_rejection_fn fn, void *cls, struct bt_error *err)
{
    return c->ops->reports->rejection_days(c, f, fn, cls, err);
}

bt_err store_report_decision_days(struct store_conn *c, const struct store_report_filter *f,
                                  store_report_decision_day_fn fn, void *cls, struct bt_error *err)
{
    return c->ops->reports->decision_days(c, f, fn, cls, err);
}

bt_err store_report_speed_days(struct store_conn *c, const struct store_report_filter *f,
                               store_report_speed_day_fn fn, void *cls, struct bt_error *err)
{
    return c->ops->reports->speed_days(c, f, fn, cls, err);
}

bt_err store_report_funnel_days(struct store_conn *c, const struct store_report_filter *f,
                                store_report_funnel_day_fn fn, void *cls, struct bt_error *err)
{
    return c->ops->reports->funnel_days(c, f, fn, cls, err);
}

bt_err store_report_dark_leads(struct store_conn *c, const struct store_report_filter *f,
                               bool contacted, unsigned limit, store_report_funnel_fn fn, void *cls,
                               struct bt_error *err)
{
    return c->ops->reports->dark_leads(c, f, contacted, limit, fn, cls, err);
}
