/*
 * cli: the connhub commands. Each takes argc/argv after its name, answers
 * --help, and returns the process exit code (0 ok, 1 failure, 2 usage).
 */
#ifndef CONNHUB_CLI_H
#define CONNHUB_CLI_H

#define DEFAULT_DB_URL "sqlite:./data/connhub.db"

int cmd_serve(int argc, char **argv);
int cmd_user(int argc, char **argv);
int cmd_workspace(int argc, char **argv);
int cmd_member(int argc, char **argv);
int cmd_token(int argc, char **argv);
int cmd_rekey(int argc, char **argv);
int cmd_openapi(int argc, char **argv);
int cmd_migrate(int argc, char **argv);

/* Shared: opens the store named by url, printing a clear error on failure. */
struct store;
struct errinfo;
int cli_open_store(const char *url, struct store **out);
/* mkdir -p of the folder that holds a sqlite: database. */
void cli_prepare_db_dir(const char *url);
void cli_fail(const char *what, const struct errinfo *ei);

#endif
