/* stats: pmilter-client --stats, the metrics endpoint in human form (see stats.c). */
#ifndef PMC_STATS_H
#define PMC_STATS_H

/* Fetches url twice, interval seconds apart, and prints a summary on stdout.
 * 0, or 3 (the client's "cannot talk to it" status) with a line on stderr. */
int stats_run(const char *url, double interval, int timeout_ms);

#endif
