/* metrics_http: the Prometheus endpoint, libmicrohttpd on its own thread.
 * GET /metrics answers the registry's text; anything else 404. Started by
 * main before handlers run, stopped at exit; reloads leave it alone. */
#include <microhttpd.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "core/log.h"
#include "metrics/metrics.h"
#include "metrics/metrics_internal.h"

static struct MHD_Daemon *daemon_;

static enum MHD_Result answer(struct MHD_Response *r, struct MHD_Connection *c, unsigned status)
{
    enum MHD_Result rc = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_size, void **state)
{
    (void)cls, (void)version, (void)upload_data, (void)upload_size, (void)state;
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 || strcmp(url, "/metrics") != 0) {
        static const char missing[] = "not found: GET /metrics\n";
        return answer(MHD_create_response_from_buffer(sizeof missing - 1, (void *)missing, MHD_RESPMEM_PERSISTENT),
                      c, MHD_HTTP_NOT_FOUND);
    }
    size_t len;
    char *text = pm_metrics_render(&len);
    struct MHD_Response *r = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8");
    return answer(r, c, MHD_HTTP_OK);
}

/* "host:port" or "[v6]:port", numeric only, into *ai (freeaddrinfo it). */
static int parse_listen(const char *listen, struct addrinfo **ai, char *err, size_t errlen)
{
    char host[256];
    const char *colon = strrchr(listen, ':');
    size_t hlen = colon ? (size_t)(colon - listen) : 0;
    if (colon == NULL || hlen == 0 || hlen >= sizeof host || colon[1] == '\0') {
        snprintf(err, errlen, "metrics.listen \"%s\": expected host:port, e.g. \"127.0.0.1:9779\"", listen);
        return -1;
    }
    memcpy(host, listen, hlen);
    host[hlen] = '\0';
    if (host[0] == '[' && host[hlen - 1] == ']') {
        memmove(host, host + 1, hlen - 2);
        host[hlen - 2] = '\0';
    }
    struct addrinfo hints = {.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE, .ai_socktype = SOCK_STREAM};
    int rc = getaddrinfo(host, colon + 1, &hints, ai);
    if (rc != 0) {
        snprintf(err, errlen, "metrics.listen \"%s\": %s (a numeric address and port)", listen, gai_strerror(rc));
        return -1;
    }
    return 0;
}

int pm_metrics_start(const char *listen, int max_series, char *err, size_t errlen)
{
    pm_metrics_set_max_series(max_series);
    if (listen == NULL)
        return 0;
    struct addrinfo *ai;
    if (parse_listen(listen, &ai, err, errlen) != 0)
        return -1;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | (ai->ai_family == AF_INET6 ? MHD_USE_IPv6 : 0);
    daemon_ = MHD_start_daemon(flags, 0, NULL, NULL, on_request, NULL, MHD_OPTION_SOCK_ADDR, ai->ai_addr,
                               MHD_OPTION_CONNECTION_LIMIT, 32u, MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_END);
    freeaddrinfo(ai);
    if (daemon_ == NULL) {
        snprintf(err, errlen, "metrics.listen \"%s\": cannot listen (address in use or not local?)", listen);
        return -1;
    }
    pm_info("metrics on http://%s/metrics", listen);
    return 0;
}

void pm_metrics_stop(void)
{
    if (daemon_)
        MHD_stop_daemon(daemon_);
    daemon_ = NULL;
}
