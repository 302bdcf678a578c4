/* connhub user|workspace|member|token|rekey: operator commands that work
 * directly on the database. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <termios.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "admin/admin.h"
#include "cli/cli.h"
#include "core/limits.h"
#include "core/log.h"
#include "session/session.h"
#include "core/banned.h"

/* Parses the common options (--db, --help) plus extras; returns optind. */
struct opts {
    const char *db;
    const char *role;
    const char *user;
    const char *workspace;
    const char *label;
    bool platform_admin;
    bool help;
};

static int
parse(int argc, char **argv, struct opts *o)
{
    static const struct option longopts[] = {
        {"db", required_argument, NULL, 'd'},    {"role", required_argument, NULL, 'r'},
        {"user", required_argument, NULL, 'u'},  {"workspace", required_argument, NULL, 'w'},
        {"label", required_argument, NULL, 'l'}, {"platform-admin", no_argument, NULL, 'p'},
        {"help", no_argument, NULL, 'h'},        {NULL, 0, NULL, 0},
    };
    int c;

    o->db = getenv("CONNHUB_DB") ? getenv("CONNHUB_DB") : DEFAULT_DB_URL;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'd':
            o->db = optarg;
            break;
        case 'r':
            o->role = optarg;
            break;
        case 'u':
            o->user = optarg;
            break;
        case 'w':
            o->workspace = optarg;
            break;
        case 'l':
            o->label = optarg;
            break;
        case 'p':
            o->platform_admin = true;
            break;
        case 'h':
            o->help = true;
            break;
        default:
            return -1;
        }
    }
    return optind;
}

static int
usage(const char *text, int code)
{
    fputs(text, code == 0 ? stdout : stderr);
    return code;
}

static const char user_help[] =
    "usage: connhub user add NAME [--platform-admin] [--db URL]\n"
    "       connhub user passwd NAME [--db URL]\n"
    "  add:    adds a user. NAME: 1-64 letters, digits, '_', '-', '.', '@'.\n"
    "  passwd: sets the password NAME signs in to the web UI with (10-1024 characters), asked\n"
    "          twice on the terminal without echo, or read as one line from standard input\n"
    "          (`printf '%s\\n' \"$PW\" | connhub user passwd NAME`). Stored as a salted scrypt\n"
    "          hash; every session NAME has is ended.\n"
    "  --platform-admin  may manage platform-wide settings (service keys, OAuth providers)\n"
    "  --db URL          database (default " DEFAULT_DB_URL ", or $CONNHUB_DB)\n";

/* One line from f into buf (without its newline); false when none or too long. */
static bool
read_line(FILE *f, char *buf, size_t n)
{
    size_t len;

    if (fgets(buf, (int)n, f) == NULL)
        return false;
    len = strlen(buf);
    if (len > 0 && buf[len - 1] == '\n')
        buf[--len] = '\0';
    else if (!feof(f))
        return false; /* longer than the buffer */
    if (len > 0 && buf[len - 1] == '\r')
        buf[--len] = '\0';
    return true;
}

/* Prompts on the terminal with echo off. */
static bool
prompt_password(const char *prompt, char *buf, size_t n)
{
    struct termios old, quiet;
    FILE *tty = fopen("/dev/tty", "r+");
    bool ok;

    if (tty == NULL)
        return false;
    fputs(prompt, tty);
    fflush(tty);
    if (tcgetattr(fileno(tty), &old) != 0) {
        fclose(tty);
        return false;
    }
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    tcsetattr(fileno(tty), TCSAFLUSH, &quiet);
    ok = read_line(tty, buf, n);
    tcsetattr(fileno(tty), TCSAFLUSH, &old);
    fputs("\n", tty);
    fclose(tty);
    return ok;
}

static int
user_passwd(struct store *st, const char *name)
{
    char pw[PASSWORD_MAX_LEN + 2], again[PASSWORD_MAX_LEN + 2];
    struct errinfo ei = {0};
    int rc = 0;

    if (isatty(STDIN_FILENO)) {
        if (!prompt_password("New password: ", pw, sizeof(pw)) ||
            !prompt_password("Repeat it: ", again, sizeof(again))) {
            fprintf(stderr, "connhub user passwd: could not read the password\n");
            rc = 1;
        } else if (strcmp(pw, again) != 0) {
            fprintf(stderr, "connhub user passwd: the two passwords differ; nothing changed\n");
            rc = 1;
        }
    } else if (!read_line(stdin, pw, sizeof(pw))) {
        fprintf(stderr,
                "connhub user passwd: expected the password as one line on standard "
                "input (at most %d characters)\n",
                PASSWORD_MAX_LEN);
        rc = 1;
    }
    if (rc == 0 && session_password_set(st, name, pw, &ei) != ERR_OK) {
        cli_fail("user passwd", &ei);
        rc = 1;
    } else if (rc == 0) {
        fprintf(stderr, "connhub: password of %s set\n", name);
    }
    OPENSSL_cleanse(pw, sizeof(pw));
    OPENSSL_cleanse(again, sizeof(again));
    return rc;
}

int
cmd_user(int argc, char **argv)
{
    struct opts o = {0};
    struct store *st = NULL;
    struct errinfo ei = {0};
    int i = parse(argc, argv, &o), rc = 0;

    if (o.help)
        return usage(user_help, 0);
    if (i < 0 || argc - i != 2 || (strcmp(argv[i], "add") != 0 && strcmp(argv[i], "passwd") != 0))
        return usage(user_help, 2);
    if (cli_open_store(o.db, &st) != 0)
        return 1;
    if (strcmp(argv[i], "passwd") == 0) {
        rc = user_passwd(st, argv[i + 1]);
    } else if (admin_user_add(st, argv[i + 1], o.platform_admin, NULL, &ei) != ERR_OK) {
        cli_fail("user add", &ei);
        rc = 1;
    } else {
        fprintf(stderr, "connhub: user %s added%s\n", argv[i + 1],
                o.platform_admin ? " (platform admin)" : "");
    }
    store_close(st);
    return rc;
}

static const char workspace_help[] =
    "usage: connhub workspace add SLUG [--db URL]\n"
    "  Adds a workspace (organization). SLUG: 1-64 lower-case letters, digits or _.\n";

int
cmd_workspace(int argc, char **argv)
{
    struct opts o = {0};
    struct store *st = NULL;
    struct errinfo ei = {0};
    int i = parse(argc, argv, &o), rc = 0;

    if (o.help)
        return usage(workspace_help, 0);
    if (i < 0 || argc - i != 2 || strcmp(argv[i], "add") != 0)
        return usage(workspace_help, 2);
    if (cli_open_store(o.db, &st) != 0)
        return 1;
    if (admin_workspace_add(st, argv[i + 1], NULL, &ei) != ERR_OK) {
        cli_fail("workspace add", &ei);
        rc = 1;
    } else {
        fprintf(stderr, "connhub: workspace %s added\n", argv[i + 1]);
    }
    store_close(st);
    return rc;
}

static const char member_help[] =
    "usage: connhub member add WORKSPACE USER --role admin|member [--db URL]\n"
    "  Makes USER a member of WORKSPACE (or changes their role).\n"
    "  admin: manages every connection of the workspace; member: the ones they own.\n";

int
cmd_member(int argc, char **argv)
{
    struct opts o = {0};
    struct store *st = NULL;
    struct errinfo ei = {0};
    int i = parse(argc, argv, &o), rc = 0;

    if (o.help)
        return usage(member_help, 0);
    if (i < 0 || argc - i != 3 || strcmp(argv[i], "add") != 0 || o.role == NULL)
        return usage(member_help, 2);
    if (cli_open_store(o.db, &st) != 0)
        return 1;
    if (admin_member_add(st, argv[i + 1], argv[i + 2], o.role, &ei) != ERR_OK) {
        cli_fail("member add", &ei);
        rc = 1;
    } else {
        fprintf(stderr, "connhub: %s is now %s of %s\n", argv[i + 2], o.role, argv[i + 1]);
    }
    store_close(st);
    return rc;
}

static const char token_help[] =
    "usage: connhub token create --user NAME --workspace SLUG [--label TEXT] [--db URL]\n"
    "  Creates an API token acting as NAME in workspace SLUG and prints it (and nothing\n"
    "  else) on stdout. Only a hash is stored: the token cannot be shown again.\n";

int
cmd_token(int argc, char **argv)
{
    struct opts o = {0};
    struct store *st = NULL;
    struct errinfo ei = {0};
    char tok[TOKEN_MAX];
    int i = parse(argc, argv, &o), rc = 0;

    if (o.help)
        return usage(token_help, 0);
    if (i < 0 || argc - i != 1 || strcmp(argv[i], "create") != 0 || !o.user || !o.workspace)
        return usage(token_help, 2);
    if (cli_open_store(o.db, &st) != 0)
        return 1;
    if (admin_token_create(st, o.user, o.workspace, o.label, tok, &ei) != ERR_OK) {
        cli_fail("token create", &ei);
        rc = 1;
    } else {
        printf("%s\n", tok);
        fflush(stdout);
        OPENSSL_cleanse(tok, sizeof(tok));
    }
    store_close(st);
    return rc;
}

static const char rekey_help[] =
    "usage: connhub rekey [--db URL]\n"
    "  Re-seals every stored secret under the current INTEGRATION_ENCRYPTION_KEY.\n"
    "  Old values are opened with INTEGRATION_ENCRYPTION_KEY_PREVIOUS (comma-separated).\n"
    "  Safe while the server runs: each row is replaced only if unchanged meanwhile.\n"
    "  Progress goes to stderr; the final counts to stdout. When it reports 0 failed,\n"
    "  the previous keys can be removed.\n";

int
cmd_rekey(int argc, char **argv)
{
    struct opts o = {0};
    struct store *st = NULL;
    struct vault *v = NULL;
    struct errinfo ei = {0};
    struct rekey_stats s;
    bool dev = false;
    int i = parse(argc, argv, &o), rc = 0;

    if (o.help)
        return usage(rekey_help, 0);
    if (i < 0 || argc != i)
        return usage(rekey_help, 2);
    if (vault_from_env(NULL, &v, &dev, &ei) != ERR_OK) {
        cli_fail("rekey", &ei);
        return 1;
    }
    if (cli_open_store(o.db, &st) != 0) {
        vault_free(v);
        return 1;
    }
    if (admin_rekey(st, v, stderr, &s, &ei) != ERR_OK) {
        cli_fail("rekey", &ei);
        rc = 1;
    }
    printf("rekey: scanned %lld, re-sealed %lld, already current %lld, changed meanwhile %lld, "
           "failed %lld\n",
           (long long)s.scanned, (long long)s.resealed, (long long)s.already_current,
           (long long)s.skipped_changed, (long long)s.failed);
    store_close(st);
    vault_free(v);
    return rc;
}
