/*
 * log.h - one line per event on stderr: "2026-11-21T09:30:00.000Z level message".
 * Lines are written with a single write() so concurrent threads do not
 * interleave. The level can be raised to silence info lines (tests, bench).
 */
#ifndef BT_LOG_H
#define BT_LOG_H

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_set_level(enum log_level level);
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#endif
