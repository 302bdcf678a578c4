#include "support/faultvfs.h"

#include <sqlite3.h>
#include <stddef.h>

struct ffile {
    sqlite3_file base;
    sqlite3_file *real; /* the default VFS's file, right after this struct */
};

static sqlite3_vfs *g_real;
static sqlite3_vfs g_vfs;
static int g_fail;
static unsigned g_refused;

#define REAL(f) (((struct ffile *)(f))->real)
#define RM(f) (REAL(f)->pMethods)

static int
f_close(sqlite3_file *f)
{
    return RM(f)->xClose(REAL(f));
}

static int
f_read(sqlite3_file *f, void *p, int n, sqlite3_int64 off)
{
    return RM(f)->xRead(REAL(f), p, n, off);
}

static int
f_write(sqlite3_file *f, const void *p, int n, sqlite3_int64 off)
{
    if (g_fail != 0) {
        g_refused++;
        return g_fail;
    }
    return RM(f)->xWrite(REAL(f), p, n, off);
}

static int
f_truncate(sqlite3_file *f, sqlite3_int64 size)
{
    return RM(f)->xTruncate(REAL(f), size);
}

static int
f_sync(sqlite3_file *f, int flags)
{
    if (g_fail != 0) {
        g_refused++;
        return g_fail == SQLITE_FULL ? SQLITE_FULL : SQLITE_IOERR_FSYNC;
    }
    return RM(f)->xSync(REAL(f), flags);
}

static int
f_size(sqlite3_file *f, sqlite3_int64 *size)
{
    return RM(f)->xFileSize(REAL(f), size);
}

static int
f_lock(sqlite3_file *f, int lock)
{
    return RM(f)->xLock(REAL(f), lock);
}

static int
f_unlock(sqlite3_file *f, int lock)
{
    return RM(f)->xUnlock(REAL(f), lock);
}

static int
f_reserved(sqlite3_file *f, int *out)
{
    return RM(f)->xCheckReservedLock(REAL(f), out);
}

static int
f_control(sqlite3_file *f, int op, void *arg)
{
    return RM(f)->xFileControl(REAL(f), op, arg);
}

static int
f_sector(sqlite3_file *f)
{
    return RM(f)->xSectorSize(REAL(f));
}

static int
f_device(sqlite3_file *f)
{
    return RM(f)->xDeviceCharacteristics(REAL(f));
}

static int
f_shm_map(sqlite3_file *f, int pg, int pgsz, int extend, void volatile **pp)
{
    return RM(f)->xShmMap(REAL(f), pg, pgsz, extend, pp);
}

static int
f_shm_lock(sqlite3_file *f, int offset, int n, int flags)
{
    return RM(f)->xShmLock(REAL(f), offset, n, flags);
}

static void
f_shm_barrier(sqlite3_file *f)
{
    RM(f)->xShmBarrier(REAL(f));
}

static int
f_shm_unmap(sqlite3_file *f, int del)
{
    return RM(f)->xShmUnmap(REAL(f), del);
}

static int
f_fetch(sqlite3_file *f, sqlite3_int64 off, int n, void **pp)
{
    return RM(f)->xFetch(REAL(f), off, n, pp);
}

static int
f_unfetch(sqlite3_file *f, sqlite3_int64 off, void *p)
{
    return RM(f)->xUnfetch(REAL(f), off, p);
}

static const sqlite3_io_methods f_methods = {
    3,          f_close,       f_read,      f_write,   f_truncate, f_sync,   f_size,
    f_lock,     f_unlock,      f_reserved,  f_control, f_sector,   f_device, f_shm_map,
    f_shm_lock, f_shm_barrier, f_shm_unmap, f_fetch,   f_unfetch,
};

static int
f_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *out_flags)
{
    struct ffile *ff = (struct ffile *)f;
    int rc;

    (void)vfs;
    ff->real = (sqlite3_file *)(ff + 1);
    rc = g_real->xOpen(g_real, name, ff->real, flags, out_flags);
    /* the default VFS's files are version 3: every method above exists */
    ff->base.pMethods = ff->real->pMethods ? &f_methods : NULL;
    return rc;
}

int
faultvfs_install(void)
{
    g_real = sqlite3_vfs_find(NULL);
    if (g_real == NULL || g_real->iVersion < 2)
        return -1;
    g_vfs = *g_real;
    g_vfs.zName = "faultvfs";
    g_vfs.szOsFile = (int)sizeof(struct ffile) + g_real->szOsFile;
    g_vfs.xOpen = f_open;
    g_vfs.pNext = NULL;
    g_fail = 0;
    g_refused = 0;
    return sqlite3_vfs_register(&g_vfs, 1) == SQLITE_OK ? 0 : -1;
}

void
faultvfs_uninstall(void)
{
    g_fail = 0;
    (void)sqlite3_vfs_unregister(&g_vfs);
    if (g_real)
        (void)sqlite3_vfs_register(g_real, 1);
}

void
faultvfs_fail(int rc)
{
    g_fail = rc;
}

unsigned
faultvfs_refused(void)
{
    return g_refused;
}
