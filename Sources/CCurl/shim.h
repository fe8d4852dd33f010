#ifndef OPVANGSYNC_CCURL_SHIM_H
#define OPVANGSYNC_CCURL_SHIM_H

#include <curl/curl.h>

/* curl_easy_setopt and curl_easy_getinfo are variadic, which Swift cannot call: one typed wrapper per
   parameter type. */

typedef size_t (*opvangsync_curl_read_callback)(char *buffer, size_t size, size_t count, void *userdata);
typedef int (*opvangsync_curl_debug_callback)(CURL *handle, curl_infotype type, char *data, size_t size, void *userdata);
typedef size_t (*opvangsync_curl_write_callback)(char *data, size_t size, size_t count, void *userdata);

static inline CURLcode opvangsync_curl_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode opvangsync_curl_setopt_string(CURL *handle, CURLoption option, const char *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode opvangsync_curl_setopt_pointer(CURL *handle, CURLoption option, void *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode opvangsync_curl_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode opvangsync_curl_setopt_read_function(CURL *handle, opvangsync_curl_read_callback callback) {
    return curl_easy_setopt(handle, CURLOPT_READFUNCTION, callback);
}

/* What an IMAP server sends back (a message, the untagged answer to a custom command) arrives here. */
static inline CURLcode opvangsync_curl_setopt_write_function(CURL *handle, opvangsync_curl_write_callback callback) {
    return curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, callback);
}

/* The SMTP conversation (commands sent, replies received) reaches the debug callback only with
   CURLOPT_VERBOSE set; with a callback installed nothing is printed. */
static inline CURLcode opvangsync_curl_setopt_debug_function(CURL *handle, opvangsync_curl_debug_callback callback) {
    return curl_easy_setopt(handle, CURLOPT_DEBUGFUNCTION, callback);
}

static inline CURLcode opvangsync_curl_setopt_size(CURL *handle, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode opvangsync_curl_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}

#endif
