/* mime_fuzz: libFuzzer target for src/mime: parse a message, walk every
 * part's record, edit it (remove, replace, append a note, chosen by the
 * input's last bytes), rebuild it, and parse the rebuilt message again.
 * The edits are drawn from a hash of the input, so that every mutation also
 * tries other edits on other parts, while the input stays a plain message
 * (the seeds are test/mime/corpus as it is).
 * Any input must give a parse or a limit error, and any edit a result or a
 * refusal: never a crash, a sanitizer report, a leak or a hang.
 * Run it with G_SLICE=always-malloc: GLib 2.74 otherwise keeps freed GObjects
 * in its own slab (set up before main), where ASan cannot see a use after
 * free (a GMime object used after its multipart was removed is found in
 * seconds with it, not in minutes without).
 * Build: make build/fuzz/mime_fuzz;
 * run: G_SLICE=always-malloc build/fuzz/mime_fuzz DIR test/mime/corpus */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mime/mime.h"

static const pm_mime_limits_t limits = {30, 2000, 8 << 20};

/* Reads every field of every record, as the Ruby binding does. */
static size_t walk(const pm_mime_t *m)
{
    size_t sum = 0;
    for (size_t i = 0; i < m->n_parts; i++) {
        const pm_mime_part_t *p = &m->parts[i];
        sum += strlen(p->content_type) + p->size + p->text_len + (size_t)p->depth;
        for (char **l = p->params; l && *l; l++)
            sum += strlen(*l);
        for (char **l = p->headers; l && *l; l++)
            sum += strlen(*l);
        if (p->filename)
            sum += strlen(p->filename);
        if (p->body && p->size)
            sum += (unsigned char)p->body[p->size - 1];
        if (p->parent >= (long)i || (i > 0 && p->parent < 0)) {
            fprintf(stderr, "mime_fuzz: part %zu has parent %ld\n", i, p->parent);
            __builtin_trap();
        }
    }
    return sum;
}

/* FNV-1a of the input: the edits to make. */
static uint64_t input_hash(const uint8_t *data, size_t size)
{
    uint64_t h = 14695981039346656037ull;
    for (size_t i = 0; i < size; i++)
        h = (h ^ data[i]) * 1099511628211ull;
    return h;
}

/* Up to four edits, each chosen by one byte of the hash: part and kind. */
static void edit(pm_mime_t *m, uint64_t ops)
{
    char err[256];
    for (int k = 0; k < 4 && m->n_parts; k++, ops >>= 16) {
        size_t index = (size_t)((ops >> 2) & 0x3fff) % m->n_parts;
        int rc = 0;
        switch (ops & 3) {
        case 0: rc = pm_mime_remove(m, index, err, sizeof err); break;
        case 1: rc = pm_mime_replace(m, index, "text/plain", "notice\n", 7, err, sizeof err); break;
        case 2: rc = pm_mime_append_note(m, "-- note <&>\n", 12, err, sizeof err); break;
        case 3: rc = pm_mime_replace(m, index, "application/octet-stream", "\0\1\2", 3, err, sizeof err); break;
        }
        if (rc != 0 && (err[0] == '\0' || memchr(err, '\0', sizeof err) == NULL)) {
            fprintf(stderr, "mime_fuzz: an edit was refused without a reason\n");
            __builtin_trap();
        }
        walk(m);
    }
}

/* The rebuilt message: the root's new MIME headers, then the body. */
static void reparse(const pm_mime_output_t *out)
{
    size_t cap = out->body_len + 512;
    char *raw = malloc(cap);
    int n = snprintf(raw, 512, "Content-Type: %.200s\r\nContent-Transfer-Encoding: %.100s\r\n\r\n",
                     out->content_type ? out->content_type : "text/plain",
                     out->transfer_encoding ? out->transfer_encoding : "7bit");
    memcpy(raw + n, out->body, out->body_len);
    pm_mime_t *again = pm_mime_parse(raw, (size_t)n + out->body_len, 0, &limits);
    walk(again);
    pm_mime_free(again);
    free(raw);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pm_mime_t *m = pm_mime_parse((const char *)data, size, 0, &limits);
    if (m->limit_error == NULL) {
        walk(m);
        edit(m, input_hash(data, size));
        if (m->edited) {
            pm_mime_output_t out;
            char err[256];
            if (pm_mime_render(m, &out, err, sizeof err) == 0)
                reparse(&out);
            pm_mime_output_clear(&out);
        }
    }
    pm_mime_free(m);
    return 0;
}
