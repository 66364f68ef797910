/* dnsq: asks the C API (src/dns, no mruby) questions in parallel and prints
 * one line per answer, for test/dns/run.sh.
 * usage: dnsq FORWARDER TIMEOUT_MS TYPE NAME [TYPE NAME ...]
 * prints "TYPE NAME: ok REC; REC" / "notfound" / "error WHY" / "timeout", then
 * "elapsed MS" for the whole batch. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dns/dns.h"

int main(int argc, char **argv)
{
    if (argc < 5 || argc % 2 == 0) {
        fprintf(stderr, "usage: dnsq FORWARDER TIMEOUT_MS TYPE NAME [TYPE NAME ...]\n");
        return 64;
    }
    pm_dns_settings_t s = {.resolver = argv[1], .cache_mb = 4};
    char err[512] = "";
    if (pm_dns_start(&s, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    size_t n = (size_t)(argc - 3) / 2;
    pm_dns_query_t *q = calloc(n, sizeof *q);
    for (size_t i = 0; i < n; i++) {
        q[i].rrtype = pm_dns_type_from_name(argv[3 + 2 * i]);
        q[i].name = argv[4 + 2 * i];
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pm_dns_resolve(q, n, atoi(argv[2]));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    for (size_t i = 0; i < n; i++) {
        printf("%s %s: ", argv[3 + 2 * i], q[i].name);
        if (q[i].status == PM_DNS_NOTFOUND)
            printf("notfound");
        else if (q[i].status == PM_DNS_TIMEOUT)
            printf("timeout");
        else if (q[i].status == PM_DNS_ERROR)
            printf("error %s", q[i].why);
        else
            printf("ok");
        for (int r = 0; r < pm_dns_count(&q[i]); r++) {
            size_t len;
            const unsigned char *d = pm_dns_rdata(&q[i], r, &len);
            char text[1024];
            int pref = 0;
            if (pm_dns_rdata_text(q[i].rrtype, d, len, text, sizeof text, &pref) != 0)
                snprintf(text, sizeof text, "(%zu bytes)", len);
            if (q[i].rrtype == 15)
                printf("%s%d %s", r ? "; " : " ", pref, text);
            else
                printf("%s%s", r ? "; " : " ", text);
        }
        printf("\n");
    }
    printf("elapsed %.0f\n", (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6);
    pm_dns_query_clear(q, n);
    free(q);
    pm_dns_stop();
    return 0;
}
