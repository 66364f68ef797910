/* mime_tree: what mime.c (parse) and mime_edit.c (rewrite) share about the
 * GMime tree behind a pm_mime_t. Private to src/mime; includes GLib. */
#ifndef PM_MIME_TREE_H
#define PM_MIME_TREE_H
#include <gmime/gmime.h>

#include "mime/mime.h"

/* g_mime_init, once per process. */
void pm_mime_init_once(void);
/* Fills a cleared record from o (type, params, disposition; a leaf's decoded
 * body, name and text); headers from headers_from (the message for a root). */
void pm_mime_fill_part(pm_mime_part_t *p, GMimeObject *o, GMimeObject *headers_from);
/* Adds the record of o (a new part, not in the walk) at the end of the list. */
void pm_mime_append_record(pm_mime_t *m, GMimeObject *o, int depth, long parent);
/* Reads all records again from the GMime tree (no limits: it was read once). */
void pm_mime_rewalk(pm_mime_t *m);
/* Frees a record's fields (not the record). */
void pm_mime_part_clear(pm_mime_part_t *p);

#endif
