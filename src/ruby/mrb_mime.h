/* mrb_mime: the Ruby side of src/mime (see mrb_mime.c). This header is what
 * the runner needs: sending a message whose MIME parts a handler edited.
 * Threads: the libmilter worker serving the session. */
#ifndef PM_MRB_MIME_H
#define PM_MRB_MIME_H
#include <stddef.h>

#include "milter/session.h"

/* After an eom handler returned without an exception: if it edited the
 * message's MIME parts and the verdict delivers the message, sends the
 * rebuilt body (replace_body) and the root Content-Type and
 * Content-Transfer-Encoding that changed (MIME-Version added if missing).
 * 0, or -1 with the reason in err (the message must then not be accepted). */
int pm_mrb_mime_apply(pm_call_t *call, char *err, size_t errlen);

#endif
