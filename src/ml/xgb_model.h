/*
 * xgb_model.h - a trained XGBoost booster in Baton's own flat form
 * (core/predict.h), and XGBoost's own margins to check it against.
 *
 * Not core: it links XGBoost's C API. The trainer trains with XGBoost, then
 * converts the booster once; the daemon only ever walks the converted model,
 * which is faster than XGBoost's single-row prediction and needs no XGBoost
 * at scoring time.
 *
 * Conversion reads the booster's JSON model (XGBoosterSaveModelToBuffer with
 * {"format": "json"}): learner.gradient_booster.model.trees[*] with
 * left_children, right_children, split_indices, split_conditions,
 * default_left and sum_hessian, and learner_model_param.base_score (a
 * probability; the base margin is its logit). Only objective
 * binary:logistic with booster gbtree is accepted. A leaf's value is its
 * split_condition (XGBoost stores the leaf value there); an inner node's
 * value is the cover-weighted mean of its children, bottom up, which is
 * what XGBoost's approximate contributions use. Nodes are renumbered
 * depth-first so that every child follows its parent (predict_model_check).
 */
#ifndef BT_ML_XGB_MODEL_H
#define BT_ML_XGB_MODEL_H

#include "core/predict.h"
#include "util/arena.h"
#include "util/err.h"

#include <stddef.h>
#include <xgboost/c_api.h>

/*
 * Converts `booster` into *out, with the caller's feature specification
 * (n_features entries; XGBoost only knows column indices: column i is
 * features[i]). Everything, features included, is copied into `arena`,
 * which must outlive the model. Calibration is none and there are no
 * terms; the caller adds them. BT_EINVAL when the booster is not a binary
 * logistic gbtree, a split uses a column >= n_features, or the result
 * fails predict_model_check(); BT_EIO when XGBoost fails (its message in err).
 */
bt_err xgb_model_convert(BoosterHandle booster, const struct predict_feature *features,
                         size_t n_features, struct arena *arena, struct predict_model *out,
                         struct bt_error *err) BT_MUST_USE;

/*
 * XGBoost's own margins (untransformed predictions, all trees) for a dense
 * row-major matrix of rows x cols floats, NaN meaning missing, into out
 * (rows doubles). For equality checks and benchmarks.
 */
bt_err xgb_model_predict_margins(BoosterHandle booster, const float *x, size_t rows, size_t cols,
                                 double *out, struct bt_error *err) BT_MUST_USE;

#endif
