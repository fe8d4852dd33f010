#ifndef OPVANGSYNC_CSQLITE_SHIM_H
#define OPVANGSYNC_CSQLITE_SHIM_H

#include <sqlite3.h>

/// SQLITE_TRANSIENT is a macro casting -1 to a function pointer, which Swift cannot import.
static inline sqlite3_destructor_type opvangsync_sqlite_transient(void) {
    return SQLITE_TRANSIENT;
}

/// sqlite3_busy_timeout is plain, but the PRAGMA/config varargs are not; keep C calls typed here.
static inline int opvangsync_sqlite_bind_text(sqlite3_stmt *stmt, int index, const char *text, int length) {
    return sqlite3_bind_text(stmt, index, text, length, SQLITE_TRANSIENT);
}

#endif
