/* Replays fuzz inputs: each argument is a file or a folder of files, fed once
 * to LLVMFuzzerTestOneInput. Built with the normal (ASan) test build, so every
 * corpus is checked on every `make test`; tools/run-fuzz links libFuzzer instead. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    long n;
    uint8_t *p;

    if (f == NULL)
        return 1;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    p = malloc(n > 0 ? (size_t)n : 1);
    if (p == NULL || (n > 0 && fread(p, 1, (size_t)n, f) != (size_t)n)) {
        fclose(f);
        free(p);
        return 1;
    }
    fclose(f);
    LLVMFuzzerTestOneInput(p, (size_t)n);
    free(p);
    return 0;
}

int
main(int argc, char **argv)
{
    int files = 0;

    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            DIR *d = opendir(argv[i]);
            struct dirent *de;
            while (d && (de = readdir(d)) != NULL) {
                char path[4096];
                if (de->d_name[0] == '.')
                    continue;
                snprintf(path, sizeof(path), "%s/%s", argv[i], de->d_name);
                if (run_file(path) == 0)
                    files++;
            }
            if (d)
                closedir(d);
        } else if (run_file(argv[i]) == 0) {
            files++;
        }
    }
    /* The same summary shape as cmocka, so run-tests counts one test per binary. */
    printf("replayed %d inputs\n[  PASSED  ] 1 test(s).\n", files);
    return 0;
}
