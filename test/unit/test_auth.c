/* Unit tests for src/auth without mruby or a DNS server: key types, the
 * signature header libopendkim builds, verification when no resolver
 * answers (the DNS hooks' error path: temperror, never a hang), DMARC's
 * answers for a message without From or resolver. */
#include <stdlib.h>

#include "auth/dkim.h"
#include "auth/dmarc.h"
#include "unit.h"

/* A throwaway test key, made for this file. */
static const char ed_pem[] = "-----BEGIN PRIVATE KEY-----\n"
                             "MC4CAQAwBQYDK2VwBCIEICkC528AyYm+abINX49naK4J62kRKdyvNlLsunh6q1Cy\n"
                             "-----END PRIVATE KEY-----\n";

int main(void)
{
    char err[256] = "";
    CHECK_STR("auth: an Ed25519 PEM key signs ed25519-sha256",
              pm_dkim_key_algorithm(ed_pem, sizeof ed_pem - 1, err, sizeof err), "ed25519-sha256");
    CHECK("auth: text that is no key is refused, with why",
          pm_dkim_key_algorithm("hello\n", 6, err, sizeof err) == NULL && strcmp(err, "not a PEM private key") == 0);
    CHECK("auth: the library starts", pm_dkim_start(err, sizeof err) == 0);

    pm_dkim_header_t h[] = {{"From", "a@example.com"}, {"To", "b@example.org"}, {"Subject", "unit\n\tfolded"}};
    const char *raw = "body line\r\n\r\n";
    pm_dkim_body_t body = {(const unsigned char *)raw, strlen(raw), 0};
    pm_dkim_sign_request_t req = {"example.com", "sel", ed_pem, sizeof ed_pem - 1, 0, 0};
    char *sig = pm_dkim_sign(h, 3, &body, &req, err, sizeof err);
    CHECK("auth: a signature is made", sig != NULL);
    CHECK("auth: it names the algorithm, relaxed/relaxed, d= and s=",
          sig && strstr(sig, "a=ed25519-sha256;") && strstr(sig, "c=relaxed/relaxed;") && strstr(sig, "d=example.com;") &&
              strstr(sig, "s=sel;"));
    CHECK("auth: From is signed", sig && strstr(sig, "h=From:") != NULL);

    /* Verify it with no resolver started: the key query fails at once. */
    pm_dkim_header_t signed_h[] = {{"DKIM-Signature", sig ? sig : ""}, h[0], h[1], h[2]};
    pm_dkim_sig_t *out = NULL;
    int n = pm_dkim_verify(signed_h, 4, &body, 1000, &out, err, sizeof err);
    CHECK("auth: one result per signature", n == 1);
    CHECK_STR("auth: a key query that fails is temperror", n == 1 ? out[0].result : NULL, "temperror");
    CHECK_STR("auth: the result names the domain", n == 1 ? out[0].domain : NULL, "example.com");
    free(out);
    n = pm_dkim_verify(h, 3, &body, 1000, &out, err, sizeof err);
    CHECK("auth: an unsigned message has no results", n == 0 && out == NULL);
    free(sig);

    pm_dmarc_result_t r;
    pm_dmarc_evaluate(&(pm_dmarc_input_t){.from_header = "a@example.com"}, &r);
    CHECK_STR("auth: dmarc before start is temperror", r.result, "temperror");
    CHECK("auth: dmarc starts with the Public Suffix List", pm_dmarc_start(NULL, err, sizeof err) == 0);
    pm_dmarc_evaluate(&(pm_dmarc_input_t){.from_header = NULL}, &r);
    CHECK_STR("auth: no From header is permerror", r.result, "permerror");
    pm_dmarc_evaluate(&(pm_dmarc_input_t){.from_header = "Alice <alice@Mail.Example.CO.UK>", .timeout_ms = 500}, &r);
    CHECK_STR("auth: the From domain, lower case", r.from_domain, "mail.example.co.uk");
    CHECK_STR("auth: its organizational domain (co.uk is a public suffix)", r.org_domain, "example.co.uk");
    CHECK_STR("auth: no resolver: temperror", r.result, "temperror");
    pm_dmarc_evaluate(&(pm_dmarc_input_t){.from_header = "x@deep.sub.corp.internal", .timeout_ms = 500}, &r);
    CHECK_STR("auth: a TLD missing from the list: the last two labels", r.org_domain, "corp.internal");
    pm_dmarc_stop();
    pm_dkim_stop();
    return unit_failures ? 1 : 0;
}
