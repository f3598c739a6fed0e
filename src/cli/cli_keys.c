/*
 * cli_keys.c - `baton keys create|list|revoke`: API keys, managed on the
 * database file directly (also while the daemon runs: SQLite lets both
 * write, and the daemon looks keys up on every request, so a new or revoked
 * key takes effect at once).
 *
 * A key is "bt_" and 64 random hex digits. Only its SHA-256 is stored; the
 * key is printed once, on stdout, so that it can be piped into a secret store.
 *
 * A rep key names a rep of the configuration, which the database does not
 * know: with --config the rep must be in that file; without it the key is
 * made and stderr says that the id was not checked.
 */
#include "cli/cli.h"
#include "config/config.h"
#include "store/store_handoff.h"
#include "util/crypto.h"
#include "util/timeutil.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEY_PREFIX_LEN 11 /* "bt_" + 8 hex digits, shown in listings */

bt_err cli_key_create(struct store_conn *c, const char *role, const char *rep_id, const char *name,
                      char *token, struct api_key *out, struct bt_error *err)
{
    char hash[SHA256_HEX_LEN + 1];
    char prefix[KEY_PREFIX_LEN + 1];
    crypto_random_token("bt_", 32, token, CLI_TOKEN_MAX);
    crypto_sha256_hex(token, strlen(token), hash);
    memcpy(prefix, token, KEY_PREFIX_LEN);
    prefix[KEY_PREFIX_LEN] = '\0';
    *out = (struct api_key){
        .name = name,
        .role = role,
        .rep_id = rep_id,
        .hash = hash,
        .prefix = prefix,
        .created_at = clock_now(clock_real()),
    };
    bt_err rc = store_key_insert(c, out, err);
    out->hash = NULL;
    out->prefix = NULL;
    return rc;
}

static void usage(FILE *out)
{
    fprintf(out, "usage: baton keys create [--db PATH] [--create] --role admin|ingest|rep\n"
                 "                         [--rep ID [--config FILE]] [--name NAME]\n"
                 "       baton keys list [--db PATH]\n"
                 "       baton keys revoke [--db PATH] ID\n"
                 "       baton keys rotate-links [--db PATH]\n"
                 "\n"
                 "Manages API keys. 'create' prints the new key on stdout, once: only its\n"
                 "hash is stored. Roles: admin (everything), ingest (may create leads),\n"
                 "rep (reads the leads it owns; needs --rep with the rep's id).\n"
                 "'rotate-links' makes a new secret for one-click links: new links are\n"
                 "signed with it, links already sent keep working (docs/handoff.md).\n"
                 "\n"
                 "Options:\n"
                 "  --db PATH        the database file (default ./baton.db); it must exist\n"
                 "                   (baton serve creates it) unless --create is given\n"
                 "  --create         create the database file if it is missing (create)\n"
                 "  --role ROLE      admin, ingest or rep (create)\n"
                 "  --rep ID         the rep a rep key belongs to (create)\n"
                 "  -c, --config F   the configuration that must have this rep (create);\n"
                 "                   without it the rep id is not checked\n"
                 "  --name NAME      a label shown in listings, e.g. website-form (create)\n"
                 "  -h, --help       show this help\n");
}

/* Opens the database. Only `create` (keys create --create) makes a new
 * file, so that a mistyped --db is an error and not an empty database;
 * `hint` ends the message for a missing file. */
static int open_db(const char *path, bool create, const char *hint, struct store **st,
                   struct store_conn **c)
{
    struct bt_error err = BT_ERROR_INIT;
    struct store_options opts = STORE_OPTIONS_INIT;
    opts.create = create;
    bt_err rc = store_open(path, &opts, st, &err);
    if (rc == BT_ENOTFOUND) {
        cli_error("keys", "%s; baton serve creates it%s", err.message, hint);
        return 1;
    }
    if (rc) {
        cli_error("keys", "%s", err.message);
        return 1;
    }
    if (store_conn_open(*st, c, &err)) {
        cli_error("keys", "%s", err.message);
        store_close(*st);
        return 1;
    }
    return 0;
}

static bool valid_id(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
              (i > 0 && (ch == '_' || ch == '.' || ch == '-'))))
            return false;
    }
    return true;
}

/* 0 when the rep may be used: it is in the configuration at `config_path`,
 * or no configuration was given (then a warning says so). */
static int check_rep(const char *rep, const char *config_path)
{
    if (!config_path) {
        fprintf(stderr,
                "baton keys: warning: rep id '%s' is unchecked: pass --config FILE to check "
                "that the configuration has this rep\n",
                rep);
        return 0;
    }
    struct config *cfg;
    struct bt_error err = BT_ERROR_INIT;
    if (config_load(config_path, &cfg, &err)) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    bool known = config_find_rep(cfg, rep) != NULL;
    config_unref(cfg);
    if (!known) {
        cli_error("keys", "no rep '%s' in %s; no key created", rep, config_path);
        return 1;
    }
    return 0;
}

static int keys_create(const char *db, bool create, const char *config_path, const char *role,
                       const char *rep, const char *name)
{
    if (!role) {
        cli_error("keys", "create needs --role admin|ingest|rep");
        return 2;
    }
    if (strcmp(role, "admin") && strcmp(role, "ingest") && strcmp(role, "rep")) {
        cli_error("keys", "unknown role '%s': use admin, ingest or rep", role);
        return 2;
    }
    if (!strcmp(role, "rep") && !rep) {
        cli_error("keys", "a rep key needs --rep ID (the rep's id in the config)");
        return 2;
    }
    if (rep && strcmp(role, "rep")) {
        cli_error("keys", "--rep is only for --role rep");
        return 2;
    }
    if (rep && !valid_id(rep)) {
        cli_error("keys", "'%s' is not a rep id (lower-case letters, digits, _ . -)", rep);
        return 2;
    }
    if (name && (strlen(name) == 0 || strlen(name) > 128)) {
        cli_error("keys", "--name must be 1 to 128 characters");
        return 2;
    }
    if (config_path && !rep) {
        cli_error("keys", "--config checks the rep of a rep key; it is only for --role rep");
        return 2;
    }
    if (rep && check_rep(rep, config_path))
        return 1;
    struct store *st;
    struct store_conn *c;
    if (open_db(db, create, ", or pass --create", &st, &c))
        return 1;
    char token[CLI_TOKEN_MAX];
    struct api_key key;
    struct bt_error err = BT_ERROR_INIT;
    int status = 0;
    if (cli_key_create(c, role, rep, name ? name : role, token, &key, &err)) {
        cli_error("keys", "%s", err.message);
        status = 1;
    } else {
        printf("%s\n", token);
        fprintf(stderr, "created %s key %lld (%s); it is shown only this once\n", role,
                (long long)key.id, key.name);
    }
    store_conn_close(c);
    store_close(st);
    return status;
}

static int keys_list(const char *db)
{
    struct store *st;
    struct store_conn *c;
    if (open_db(db, false, "", &st, &c))
        return 1;
    struct arena a = ARENA_INIT;
    struct api_key *keys;
    size_t n;
    struct bt_error err = BT_ERROR_INIT;
    int status = 0;
    if (store_key_list(c, &a, &keys, &n, &err)) {
        cli_error("keys", "%s", err.message);
        status = 1;
    } else {
        printf("%-5s %-20s %-7s %-16s %-12s %-25s %s\n", "ID", "NAME", "ROLE", "REP", "PREFIX",
               "CREATED", "STATUS");
        for (size_t i = 0; i < n; i++) {
            char created[RFC3339_MAX], revoked[RFC3339_MAX + 8] = "active";
            time_format_rfc3339(keys[i].created_at, created);
            if (keys[i].revoked_at) {
                char t[RFC3339_MAX];
                time_format_rfc3339(keys[i].revoked_at, t);
                snprintf(revoked, sizeof(revoked), "revoked %s", t);
            }
            printf("%-5lld %-20s %-7s %-16s %-12s %-25s %s\n", (long long)keys[i].id, keys[i].name,
                   keys[i].role, keys[i].rep_id ? keys[i].rep_id : "-", keys[i].prefix, created,
                   revoked);
        }
    }
    arena_release(&a);
    store_conn_close(c);
    store_close(st);
    return status;
}

static int keys_revoke(const char *db, const char *id_text)
{
    char *end;
    long long id = strtoll(id_text, &end, 10);
    if (*end || id <= 0) {
        cli_error("keys", "'%s' is not a key id (see 'baton keys list')", id_text);
        return 2;
    }
    struct store *st;
    struct store_conn *c;
    if (open_db(db, false, "", &st, &c))
        return 1;
    struct bt_error err = BT_ERROR_INIT;
    int status = 0;
    if (store_key_revoke(c, id, clock_now(clock_real()), &err)) {
        cli_error("keys", "%s", err.message);
        status = 1;
    } else {
        fprintf(stderr, "revoked key %lld\n", id);
    }
    store_conn_close(c);
    store_close(st);
    return status;
}

static int keys_rotate_links(const char *db)
{
    struct store *st;
    struct store_conn *c;
    if (open_db(db, false, "", &st, &c))
        return 1;
    uint8_t secret[LINK_SECRET_BYTES];
    crypto_random_bytes(secret, sizeof(secret));
    struct bt_error err = BT_ERROR_INIT;
    uint32_t generation = 0;
    int status = 0;
    bt_err rc = store_begin(c, &err);
    if (!rc)
        rc = store_link_secret_add(c, secret, clock_now(clock_real()), &generation, &err);
    if (!rc)
        rc = store_commit(c, &err);
    else
        store_rollback(c);
    if (rc) {
        cli_error("keys", "%s", err.message);
        status = 1;
    } else {
        fprintf(stderr, "one-click links are now signed with secret generation %u\n", generation);
    }
    store_conn_close(c);
    store_close(st);
    return status;
}

int cli_keys(int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},  {"role", required_argument, NULL, 'r'},
        {"rep", required_argument, NULL, 'p'}, {"name", required_argument, NULL, 'n'},
        {"create", no_argument, NULL, 'C'},    {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},      {NULL, 0, NULL, 0},
    };
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        usage(stdout);
        return 0;
    }
    if (argc < 2 || argv[1][0] == '-') {
        usage(stderr);
        return 2;
    }
    const char *action = argv[1];
    const char *db = "./baton.db", *role = NULL, *rep = NULL, *name = NULL, *config = NULL;
    bool create = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc - 1, argv + 1, "c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            db = optarg;
            break;
        case 'r':
            role = optarg;
            break;
        case 'p':
            rep = optarg;
            break;
        case 'n':
            name = optarg;
            break;
        case 'C':
            create = true;
            break;
        case 'c':
            config = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    int rest = argc - 1 - optind;
    char **args = argv + 1 + optind;
    if ((create || config) && strcmp(action, "create")) {
        cli_error("keys", "%s is only for 'keys create'", create ? "--create" : "--config");
        return 2;
    }
    if (!strcmp(action, "create") && rest == 0)
        return keys_create(db, create, config, role, rep, name);
    if (!strcmp(action, "list") && rest == 0)
        return keys_list(db);
    if (!strcmp(action, "revoke") && rest == 1)
        return keys_revoke(db, args[0]);
    if (!strcmp(action, "rotate-links") && rest == 0)
        return keys_rotate_links(db);
    usage(stderr);
    return 2;
}
