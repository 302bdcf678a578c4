/*
 * faultvfs: a SQLite VFS in front of the default one that refuses writes and
 * syncs on demand, for failed-I/O tests (DUR-004): SQLITE_FULL stands for a
 * full disk (ENOSPC), SQLITE_IOERR_WRITE for EIO on write (and the matching
 * SQLITE_IOERR_FSYNC on sync). Everything else passes through unchanged.
 *
 *   faultvfs_install();            // the default VFS from now on: open the store after it
 *   faultvfs_fail(SQLITE_FULL);    // every write and sync fails until faultvfs_fail(0)
 *   faultvfs_uninstall();          // the previous default again (close such stores first)
 *
 * Process-wide and not thread-safe: for single-threaded unit tests.
 */
#ifndef CONNHUB_TESTS_FAULTVFS_H
#define CONNHUB_TESTS_FAULTVFS_H

/* 0, or -1 when the default VFS cannot be found or registration fails. */
int faultvfs_install(void);
void faultvfs_uninstall(void);
/* 0: pass through; SQLITE_FULL or SQLITE_IOERR_WRITE: refuse writes and syncs. */
void faultvfs_fail(int rc);
/* How many writes and syncs have been refused since install. */
unsigned faultvfs_refused(void);

#endif
