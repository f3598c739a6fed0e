/*
 * cli_daemon.c - the files `baton serve` keeps next to its database, so
 * that `baton reload` can find the daemon, check that it deploys the file
 * the daemon reads, and learn what its SIGHUP did without speaking HTTP
 * (the daemon may listen on an address the operator's shell cannot reach,
 * and a --listen port 0 is known only to the daemon).
 *
 * Each file is written beside its final name and renamed over it, so that a
 * reader sees the old content or the new, never half of it. Failing to
 * write them is logged and the daemon runs on: they serve the operator's
 * tools, not the API.
 */
#include "cli/cli.h"
#include "config/config.h"
#include "util/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *cli_daemon_path(const char *db, const char *suffix)
{
    size_t n = strlen(db) + strlen(suffix) + 1;
    char *p = xmalloc(n);
    snprintf(p, n, "%s%s", db, suffix);
    return p;
}

/* Replaces `path` by `text` (mode `mode`); logs and returns -1 on failure. */
static int replace_file(const char *path, const char *text, mode_t mode)
{
    size_t n = strlen(path) + sizeof(".XXXXXX");
    char *tmp = xmalloc(n);
    snprintf(tmp, n, "%s.XXXXXX", path);
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        log_warn("cannot write %s: %s", path, strerror(errno));
        free(tmp);
        return -1;
    }
    size_t len = strlen(text);
    bool ok = fchmod(fd, mode) == 0 && write(fd, text, len) == (ssize_t)len;
    ok = close(fd) == 0 && ok;
    ok = ok && rename(tmp, path) == 0;
    if (!ok) {
        log_warn("cannot write %s: %s", path, strerror(errno));
        unlink(tmp);
    }
    free(tmp);
    return ok ? 0 : -1;
}

/* The configuration's path made absolute (symbolic links left as they are:
 * `baton reload` compares files by device and inode). */
static char *absolute(const char *path)
{
    if (path[0] == '/')
        return xstrdup(path);
    char cwd[4096];
    if (!getcwd(cwd, sizeof(cwd)))
        return xstrdup(path);
    size_t n = strlen(cwd) + strlen(path) + 2;
    char *p = xmalloc(n);
    snprintf(p, n, "%s/%s", cwd, path);
    return p;
}

void cli_daemon_status_write(const char *db, struct config_holder *holder)
{
    struct config *cfg = config_holder_get(holder);
    json_t *last = config_holder_last_reload(holder);
    char *config_path = absolute(cfg->path);
    json_t *status =
        json_pack("{s:I, s:s, s:s, s:o}", "pid", (json_int_t)getpid(), "config", config_path,
                  "version", cfg->version, "last_reload", last ? last : json_null());
    char *text = status ? json_dumps(status, JSON_COMPACT) : NULL;
    if (!text)
        bt_die("out of memory");
    size_t len = strlen(text);
    text = xrealloc(text, len + 2);
    memcpy(text + len, "\n", 2);
    char *path = cli_daemon_path(db, CLI_DAEMON_STATUS_SUFFIX);
    (void)replace_file(path, text, 0600);
    free(path);
    free(text);
    json_decref(status);
    free(config_path);
    config_unref(cfg);
}

void cli_daemon_files_write(const char *db, struct config_holder *holder)
{
    char line[32];
    snprintf(line, sizeof(line), "%ld\n", (long)getpid());
    char *path = cli_daemon_path(db, CLI_DAEMON_PID_SUFFIX);
    (void)replace_file(path, line, 0644);
    free(path);
    cli_daemon_status_write(db, holder);
}

bt_err cli_daemon_read_pid(const char *db, pid_t *out, struct bt_error *err)
{
    char *path = cli_daemon_path(db, CLI_DAEMON_PID_SUFFIX);
    FILE *f = fopen(path, "r");
    bt_err rc = BT_OK;
    if (!f) {
        rc = bt_fail(err, errno == ENOENT ? BT_ENOTFOUND : BT_EIO, NULL, "cannot open %s: %s", path,
                     strerror(errno));
    } else {
        char buf[32] = "";
        size_t n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[n] = '\0';
        char *end;
        long v = strtol(buf, &end, 10);
        if (end == buf || (*end != '\n' && *end != '\0') || v <= 0 || v > 0x3fffffff)
            rc = bt_fail(err, BT_EINVAL, NULL, "%s does not hold a process id", path);
        else
            *out = (pid_t)v;
    }
    free(path);
    return rc;
}

void cli_daemon_files_remove(const char *db)
{
    pid_t pid;
    if (cli_daemon_read_pid(db, &pid, NULL) != BT_OK || pid != getpid())
        return; /* another daemon's by now (two on one database): leave them */
    char *status = cli_daemon_path(db, CLI_DAEMON_STATUS_SUFFIX);
    char *pidfile = cli_daemon_path(db, CLI_DAEMON_PID_SUFFIX);
    unlink(status);
    unlink(pidfile);
    free(status);
    free(pidfile);
}
