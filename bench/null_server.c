/*
 * null_server.c - the HTTP ceiling for the intake benchmark.
 *
 * A libmicrohttpd server that does no work: every request has its body read
 * and thrown away and gets 201 with {"id":1}. It is set up the way `baton
 * serve` is (a thread per connection, MHD's internal polling thread, a
 * listening socket we create and hand over), so that bench/load against it
 * measures what this machine's HTTP stack and the load generator cost, and
 * Baton's figures can be read as a fraction of that ceiling.
 *
 * Usage: null_server [PORT]     (PORT 0 or absent: an ephemeral port)
 * Binds 127.0.0.1 only, prints "listening on http://127.0.0.1:PORT" on stderr
 * once ready, and stops cleanly on SIGTERM or SIGINT.
 */
#include <microhttpd.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char reply_body[] = "{\"id\":1}";

/* Built once and queued on every connection; MHD reference-counts it. */
static struct MHD_Response *reply;

/*
 * MHD calls this once with the headers (*con_cls still NULL), then once per
 * chunk of body, then once more with *upload_data_size == 0 when the body is
 * complete; only then may a response be queued.
 */
static enum MHD_Result handle_request(void *cls, struct MHD_Connection *connection, const char *url,
                                      const char *method, const char *version,
                                      const char *upload_data, size_t *upload_data_size,
                                      void **con_cls)
{
    static int started; /* any non-NULL marker will do */

    if (*con_cls == NULL) {
        *con_cls = &started;
        return MHD_YES;
    }
    if (*upload_data_size != 0) {
        *upload_data_size = 0; /* consumed: discarded */
        return MHD_YES;
    }
    return MHD_queue_response(connection, MHD_HTTP_CREATED, reply);
}

/* A listening socket on 127.0.0.1:port, or -1 with a message printed. */
static int listen_loopback(unsigned port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        fprintf(stderr, "null_server: socket: %s\n", strerror(errno));
        return -1;
    }
    int one = 1;
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);

    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        fprintf(stderr, "null_server: bind 127.0.0.1:%u: %s\n", port, strerror(errno));
        close(fd);
        return -1;
    }
    if (listen(fd, SOMAXCONN) != 0) {
        fprintf(stderr, "null_server: listen: %s\n", strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

static unsigned bound_port(int fd)
{
    struct sockaddr_in addr;
    socklen_t len = sizeof addr;
    if (getsockname(fd, (struct sockaddr *)&addr, &len) != 0)
        return 0;
    return ntohs(addr.sin_port);
}

int main(int argc, char **argv)
{
    unsigned long port = 0;
    if (argc > 2) {
        fprintf(stderr, "usage: null_server [PORT]\n");
        return 2;
    }
    if (argc == 2) {
        char *end;
        errno = 0;
        port = strtoul(argv[1], &end, 10);
        if (errno != 0 || end == argv[1] || *end != '\0' || port > 65535) {
            fprintf(stderr, "null_server: bad port '%s' (0..65535)\n", argv[1]);
            return 2;
        }
    }

    /*
     * Block the stop signals before MHD starts its threads so that every
     * thread inherits the mask and only sigwait() below ever sees them.
     */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    if (pthread_sigmask(SIG_BLOCK, &stop, NULL) != 0) {
        fprintf(stderr, "null_server: cannot block signals\n");
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);

    reply = MHD_create_response_from_buffer(sizeof reply_body - 1, (void *)reply_body,
                                            MHD_RESPMEM_PERSISTENT);
    if (reply == NULL || MHD_add_response_header(reply, MHD_HTTP_HEADER_CONTENT_TYPE,
                                                 "application/json") != MHD_YES) {
        fprintf(stderr, "null_server: cannot build the response\n");
        return 1;
    }

    int fd = listen_loopback((unsigned)port);
    if (fd < 0)
        return 1;

    struct MHD_Daemon *daemon =
        MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                             MHD_USE_POLL | MHD_USE_ERROR_LOG,
                         0, NULL, NULL, handle_request, NULL, MHD_OPTION_LISTEN_SOCKET, fd,
                         MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30, MHD_OPTION_END);
    if (daemon == NULL) {
        fprintf(stderr, "null_server: MHD_start_daemon failed\n");
        close(fd);
        MHD_destroy_response(reply);
        return 1;
    }
    fprintf(stderr, "listening on http://127.0.0.1:%u\n", bound_port(fd));

    int sig = 0;
    while (sigwait(&stop, &sig) != 0)
        ;

    /* MHD_stop_daemon closes the listening socket it was given. */
    MHD_stop_daemon(daemon);
    MHD_destroy_response(reply);
    return 0;
}
