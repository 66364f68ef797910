/* config_toml: libtomlplusplus behind a C interface (see config_toml.h).
 * Exceptions never leave this file. Threads: any (config loads happen in
 * main at start, and in a reload thread). */
#include "core/config_toml.h"

#include <cerrno>
#include <csignal>
#include <ctime>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <toml++/toml.h>

extern "C" {
#include "core/log.h"
}

static char *dup_string(std::string_view s)
{
    char *p = static_cast<char *>(std::malloc(s.size() + 1));
    if (!p) {
        std::fputs("pmilter: fatal: out of memory\n", stderr);
        std::abort();
    }
    std::memcpy(p, s.data(), s.size());
    p[s.size()] = '\0';
    return p;
}

static pm_toml_node_t *alloc_items(size_t n)
{
    auto *items = static_cast<pm_toml_node_t *>(std::calloc(n ? n : 1, sizeof(pm_toml_node_t)));
    if (!items) {
        std::fputs("pmilter: fatal: out of memory\n", stderr);
        std::abort();
    }
    return items;
}

static void convert(const toml::node &in, pm_toml_node_t *out)
{
    out->line = static_cast<int>(in.source().begin.line);
    if (auto *t = in.as_table()) {
        out->type = PM_TOML_TABLE;
        out->items = alloc_items(t->size());
        for (auto &&[k, v] : *t) {
            pm_toml_node_t *item = &out->items[out->n_items++];
            convert(v, item);
            item->key = dup_string(k.str());
            if (v.is_table() && k.source().begin.line)
                item->line = static_cast<int>(k.source().begin.line);
        }
    } else if (auto *a = in.as_array()) {
        out->type = PM_TOML_ARRAY;
        out->items = alloc_items(a->size());
        for (auto &&v : *a)
            convert(v, &out->items[out->n_items++]);
    } else if (auto *s = in.as_string()) {
        out->type = PM_TOML_STRING;
        out->str = dup_string(s->get());
    } else if (auto *i = in.as_integer()) {
        out->type = PM_TOML_INTEGER;
        out->integer = i->get();
    } else if (auto *f = in.as_floating_point()) {
        out->type = PM_TOML_FLOAT;
        out->number = f->get();
    } else if (auto *b = in.as_boolean()) {
        out->type = PM_TOML_BOOLEAN;
        out->boolean = b->get();
    } else {
        out->type = PM_TOML_DATETIME;
    }
}

static bool bare_key_start(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
           c == '"' || c == '\'';
}

/* Lexical pre-check for two inputs toml++ 3.3 mishandles: a non-ASCII byte
 * outside strings and comments (undefined behaviour in its Unicode
 * whitespace table) and a table header that does not start with a key
 * (an assertion). TOML allows neither, so this rejects nothing valid.
 * Returns false with "LINE:COL: why" in err. */
static bool precheck(std::string_view t, char *err, size_t errlen)
{
    enum { CODE, COMMENT, BASIC, LITERAL, ML_BASIC, ML_LITERAL } state = CODE;
    unsigned line = 1, col = 0;
    bool line_start = true;
    for (size_t i = 0; i < t.size(); i++) {
        char c = t[i];
        col++;
        if (c == '\n') {
            line++;
            col = 0;
            line_start = true;
            if (state == COMMENT || state == BASIC || state == LITERAL)
                state = CODE; /* an unterminated string is toml++'s to report */
            continue;
        }
        switch (state) {
        case COMMENT: continue;
        case BASIC:
            if (c == '\\')
                i++, col++;
            else if (c == '"')
                state = CODE;
            continue;
        case LITERAL:
            if (c == '\'')
                state = CODE;
            continue;
        case ML_BASIC:
            if (c == '\\')
                i++, col++;
            else if (t.substr(i, 3) == "\"\"\"")
                state = CODE, i += 2, col += 2;
            continue;
        case ML_LITERAL:
            if (t.substr(i, 3) == "\'\'\'")
                state = CODE, i += 2, col += 2;
            continue;
        case CODE: break;
        }
        if (c == '#') {
            state = COMMENT;
        } else if (c == '"') {
            state = t.substr(i, 3) == "\"\"\"" ? (i += 2, col += 2, ML_BASIC) : BASIC;
        } else if (c == '\'') {
            state = t.substr(i, 3) == "\'\'\'" ? (i += 2, col += 2, ML_LITERAL) : LITERAL;
        } else if (static_cast<unsigned char>(c) >= 0x80) {
            std::snprintf(err, errlen, "%u:%u: non-ASCII character outside a string or comment", line, col);
            return false;
        } else if (c == '[' && line_start) {
            size_t j = i + 1;
            if (j < t.size() && t[j] == '[')
                j++;
            while (j < t.size() && (t[j] == ' ' || t[j] == '\t'))
                j++;
            if (j >= t.size() || !bare_key_start(t[j])) {
                std::snprintf(err, errlen, "%u:%u: a table name must start with a letter, digit, _, - or a quote", line,
                              col);
                return false;
            }
        }
        if (c != ' ' && c != '\t' && c != '\r')
            line_start = false;
    }
    return true;
}

/* How long the pre-check child may take. It only parses a small text; it can
 * hang only on a lock another thread held at fork (reload forks a
 * multithreaded process), which says nothing about the text. */
static const int precheck_child_seconds = 5;

/* Waits for the child up to precheck_child_seconds; kills it after that.
 * 1 if it exited, 0 if it had to be killed. */
static int wait_bounded(pid_t pid, int *status)
{
    for (int waited_ms = 0; waited_ms < precheck_child_seconds * 1000; waited_ms += 10) {
        pid_t got = waitpid(pid, status, WNOHANG);
        if (got == pid || (got < 0 && errno != EINTR))
            return 1;
        struct timespec tick = {0, 10 * 1000 * 1000};
        nanosleep(&tick, nullptr);
    }
    kill(pid, SIGKILL);
    while (waitpid(pid, status, 0) < 0 && errno == EINTR)
        ;
    return 0;
}

/* toml++ 3.3 checks internal preconditions with assert(), and some malformed
 * inputs trip them (found by test/fuzz): the process would abort. So the text
 * is parsed once in a child process first; only if that child lives is it
 * parsed here. One fork per config load: start-up, -t and reload only. The
 * child is bounded (wait_bounded), so a reload cannot hang on it. Redefining
 * TOML_ASSERT to throw would not do instead: some of the functions that
 * assert are noexcept (go_back, step_back), where a throw terminates. */
static bool parser_survives(std::string_view text, char *err, size_t errlen)
{
    pid_t pid = fork();
    if (pid < 0)
        return true; /* cannot check: parse in-process as before */
    if (pid == 0) {
        /* A child stuck on a lock held at fork must not outlive pmilter: it
         * would keep the parent's inherited descriptors (the MTA's sockets, a
         * test harness's pipes) open. Seen under ASan, whose allocator lock a
         * worker held at fork, after a stop ended the wait below early. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() == 1)
            _exit(0); /* the parent is already gone */
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0)
            dup2(devnull, STDERR_FILENO);
        try {
            (void)toml::parse(text);
        } catch (...) {
        }
        _exit(0);
    }
    int status = 0;
    if (!wait_bounded(pid, &status)) {
        pm_warn("the TOML pre-check process did not finish in %d s and was killed; parsing without it",
                precheck_child_seconds);
        return true;
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return true;
    std::snprintf(err, errlen, "0:0: malformed TOML (the parser stopped on an internal check)");
    return false;
}

static pm_toml_node_t *parse(std::string_view text, const char *path, char *err, size_t errlen)
{
    if (!precheck(text, err, errlen) || !parser_survives(text, err, errlen))
        return nullptr;
    try {
        toml::table root = toml::parse(text, path ? std::string_view(path) : std::string_view("-"));
        pm_toml_node_t *out = alloc_items(1);
        convert(root, out);
        out->line = 1;
        return out;
    } catch (const toml::parse_error &e) {
        std::snprintf(err, errlen, "%u:%u: %.*s", static_cast<unsigned>(e.source().begin.line),
                      static_cast<unsigned>(e.source().begin.column), static_cast<int>(e.description().size()),
                      e.description().data());
    } catch (const std::exception &e) {
        std::snprintf(err, errlen, "0:0: %s", e.what());
    }
    return nullptr;
}

extern "C" pm_toml_node_t *pm_toml_parse_string(const char *text, size_t len, char *err, size_t errlen)
{
    return parse(std::string_view(text, len), nullptr, err, errlen);
}

extern "C" pm_toml_node_t *pm_toml_parse_file(const char *path, char *err, size_t errlen)
{
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        std::snprintf(err, errlen, "0:0: cannot open: %s", std::strerror(errno));
        return nullptr;
    }
    std::stringstream buf;
    buf << in.rdbuf();
    std::string text = buf.str();
    return parse(text, path, err, errlen);
}

static void free_node(pm_toml_node_t *n)
{
    for (size_t i = 0; i < n->n_items; i++)
        free_node(&n->items[i]);
    std::free(n->items);
    std::free(n->key);
    std::free(n->str);
}

extern "C" void pm_toml_free(pm_toml_node_t *root)
{
    if (!root)
        return;
    free_node(root);
    std::free(root);
}

extern "C" const char *pm_toml_type_name(pm_toml_type_t type)
{
    static const char *const names[] = {"table", "array", "string", "integer", "float", "boolean", "datetime"};
    return names[type];
}
