/* mime_zip: the file names inside a zip archive (Part#zip_names), read by
 * libzip from the archive's central directory: nothing is decompressed, so a
 * zip bomb costs no more than its directory. Encrypted archives list their
 * names too. Threads: any (no shared state).
 * Diagnostics: NULL when the bytes are not a zip libzip can read. */
#include <stdlib.h>
#include <string.h>
#include <zip.h>

#include "mime/mime.h"

char **pm_mime_zip_names(const char *data, size_t len, size_t max, size_t *n)
{
    *n = 0;
    zip_error_t error;
    zip_error_init(&error);
    zip_source_t *src = zip_source_buffer_create(data, len, 0, &error);
    zip_t *zip = src ? zip_open_from_source(src, ZIP_RDONLY, &error) : NULL;
    zip_error_fini(&error);
    if (zip == NULL) {
        if (src)
            zip_source_free(src);
        return NULL;
    }
    zip_int64_t entries = zip_get_num_entries(zip, 0);
    size_t count = entries < 0 ? 0 : (size_t)entries < max ? (size_t)entries : max;
    char **names = calloc(count + 1, sizeof *names);
    for (size_t i = 0; i < count; i++) {
        const char *name = zip_get_name(zip, i, ZIP_FL_ENC_GUESS); /* CP437 or UTF-8 -> UTF-8 */
        names[(*n)++] = strdup(name ? name : "");
    }
    zip_discard(zip); /* read-only: nothing to write back; frees src too */
    return names;
}
