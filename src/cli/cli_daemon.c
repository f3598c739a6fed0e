/*
 * cli_daemon.c - the files `baton serve` keeps next to its database, so
 * that `baton reload` can find the daemon, check that it deploys the file
 * the daemon reads, and learn what its SIGHUP did without speaking HTTP
 * (the daemon may listen on an address the operator's shell cannot reach,
 * and a --listen port 0 is known only to the daemon).
 *
 * Each file is written beside its final name and renamed over it, so that a
 * reader sees the old content or the new, never half of it. The daemon holds
 * a lock on DB.pid for as long as it runs: a pid file nobody holds is one a
 * crashed daemon left, and its id may by now be another program's, which a
 * SIGHUP could kill. Failing to
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
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

char *cli_daemon_path(const char *db, const char *suffix)
{
    size_t n = strlen(db) + strlen(suffix) + 1;
    char *p = xmalloc(n);
    snprintf(p, n, "%s%s", db, suffix);
    return p;
}

/*
 * Replaces `path` by `text` (mode `mode`); logs and returns -1 on failure.
 * With `locked`, the new file is locked (flock, exclusive) before it takes
 * the name and *locked gets its descriptor, to keep for as long as the lock
 * should hold.
 */
static int replace_file(const char *path, const char *text, mode_t mode, int *locked)
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
    bool ok = fchmod(fd, mode) == 0 && write(fd, text, len) == (ssize_t)len &&
              (!locked || flock(fd, LOCK_EX | LOCK_NB) == 0);
    ok = ok && rename(tmp, path) == 0;
    if (!ok) {
        log_warn("cannot write %s: %s", path, strerror(errno));
        unlink(tmp);
    }
    if (ok && locked)
        *locked = fd;
    else if (close(fd) != 0 && ok) {
        log_warn("cannot write %s: %s", path, strerror(errno));
        ok = false;
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
    struct config *cfg;
    json_t *last = config_holder_last_reload(holder, &cfg);
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
    (void)replace_file(path, text, 0600, NULL);
    free(path);
    free(text);
    json_decref(status);
    free(config_path);
    config_unref(cfg);
}

int cli_daemon_files_write(const char *db, struct config_holder *holder)
{
    char line[32];
    snprintf(line, sizeof(line), "%ld\n", (long)getpid());
    char *path = cli_daemon_path(db, CLI_DAEMON_PID_SUFFIX);
    int fd = -1;
    (void)replace_file(path, line, 0644, &fd);
    free(path);
    cli_daemon_status_write(db, holder);
    return fd;
}

bt_err cli_daemon_read_pid(const char *db, pid_t *out, struct bt_error *err)
{
    char *path = cli_daemon_path(db, CLI_DAEMON_PID_SUFFIX);
    FILE *f = fopen(path, "r");
    bt_err rc = BT_OK;
    if (!f) {
        rc = bt_fail(err, errno == ENOENT ? BT_ENOTFOUND : BT_EIO, NULL, "cannot open %s: %s", path,
                     strerror(errno));
        free(path);
        return rc;
    }
    char buf[32] = "";
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    char *end;
    long v = strtol(buf, &end, 10);
    if (end == buf || (*end != '\n' && *end != '\0') || v <= 0 || v > 0x3fffffff) {
        rc = bt_fail(err, BT_EINVAL, NULL, "%s does not hold a process id", path);
    } else if (flock(fileno(f), LOCK_SH | LOCK_NB) == 0) {
        /* Nobody holds the daemon's lock: the id may name another process by now. */
        rc = bt_fail(err, BT_ENOTFOUND, NULL,
                     "%s names process %ld, but no baton serve holds it (a daemon that did not "
                     "stop cleanly left it)",
                     path, v);
    } else if (errno != EWOULDBLOCK) {
        rc = bt_fail(err, BT_EIO, NULL, "cannot lock %s: %s", path, strerror(errno));
    } else {
        *out = (pid_t)v;
    }
    fclose(f);
    free(path);
    return rc;
}

void cli_daemon_files_remove(const char *db, int pid_fd)
{
    if (pid_fd < 0)
        return;
    /* Ours while the file under the name is the one we hold locked; a second
     * daemon on the database may have replaced both. */
    char *status = cli_daemon_path(db, CLI_DAEMON_STATUS_SUFFIX);
    char *pidfile = cli_daemon_path(db, CLI_DAEMON_PID_SUFFIX);
    struct stat held, named;
    if (fstat(pid_fd, &held) == 0 && stat(pidfile, &named) == 0 && held.st_dev == named.st_dev &&
        held.st_ino == named.st_ino) {
        unlink(status);
        unlink(pidfile);
    }
    close(pid_fd);
    free(status);
    free(pidfile);
}
