/* dns_compare: why libunbound (src/dns) and not the libc resolver, measured
 * for docs/dns.md by bench/dns.sh. Asks "2.0.0.127.ZONE A" for each zone:
 * with res_query one after the other (libc has no asynchronous call), then
 * with pm_dns_resolve at once; then one name twice with each (libc keeps no
 * cache). Prints "libc_serial_ms N", "unbound_parallel_ms N".
 * usage: dns_compare PORT LIBC_TWICE_NAME UNBOUND_TWICE_NAME ZONE... */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "dns/dns.h"

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: dns_compare PORT LIBC_TWICE_NAME UNBOUND_TWICE_NAME ZONE...\n");
        return 64;
    }
    int port = atoi(argv[1]), nz = argc - 4;
    char (*names)[300] = calloc((size_t)nz, sizeof *names);
    for (int i = 0; i < nz; i++)
        snprintf(names[i], sizeof names[i], "2.0.0.127.%s", argv[4 + i]);

    res_init();
    _res.nscount = 1;
    _res.nsaddr_list[0].sin_family = AF_INET;
    _res.nsaddr_list[0].sin_port = htons((unsigned short)port);
    inet_pton(AF_INET, "127.0.0.1", &_res.nsaddr_list[0].sin_addr);
    unsigned char answer[4096];
    double t0 = now_ms();
    for (int i = 0; i < nz; i++)
        res_query(names[i], ns_c_in, ns_t_a, answer, sizeof answer);
    printf("libc_serial_ms %.0f\n", now_ms() - t0);
    for (int i = 0; i < 2; i++)
        res_query(argv[2], ns_c_in, ns_t_a, answer, sizeof answer);

    char fwd[64], err[256];
    snprintf(fwd, sizeof fwd, "127.0.0.1@%d", port);
    pm_dns_settings_t s = {.resolver = fwd, .cache_mb = 4};
    if (pm_dns_start(&s, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    pm_dns_query_t *q = calloc((size_t)nz, sizeof *q);
    for (int i = 0; i < nz; i++) {
        q[i].name = names[i];
        q[i].rrtype = ns_t_a;
    }
    t0 = now_ms();
    pm_dns_resolve(q, (size_t)nz, 10000);
    printf("unbound_parallel_ms %.0f\n", now_ms() - t0);
    pm_dns_query_clear(q, (size_t)nz);
    for (int i = 0; i < 2; i++) {
        pm_dns_query_t one = {.name = argv[3], .rrtype = ns_t_a};
        pm_dns_resolve(&one, 1, 10000);
        pm_dns_query_clear(&one, 1);
    }
    pm_dns_stop();
    free(q);
    free(names);
    return 0;
}
