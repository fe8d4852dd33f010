#ifndef OPVANGSYNC_CMALLOC_SHIM_H
#define OPVANGSYNC_CMALLOC_SHIM_H

/// glibc's allocator settings (`mallopt`), which the Glibc module does not carry.
#include <malloc.h>

#endif
