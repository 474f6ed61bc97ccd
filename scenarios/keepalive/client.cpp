// keepalive client: turns keepalive on (or not), connects, may send a small request, then sits
// idle and waits for news of the connection: poll() returns when the kernel has some (the peer's
// FIN or RST, or its own verdict ETIMEDOUT), and recv() tells which.
//
//   client --addr 198.18.0.2 --port 8080 --keepalive 1 --idle S --intvl S --count N
//          [--user-timeout MS] [--bytes N] [--wait-ms MS]     (wait-ms -1: until there is news)
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "program/lab.hpp"

int main(int argc, char** argv) {
    lab::Args args(argc, argv, "--addr IP --port N --keepalive 0|1 --idle S --intvl S --count N [--user-timeout MS] [--bytes N] [--wait-ms MS]");
    lab::Address server = lab::address(args.text("addr", "198.18.0.2"), args.number("port", 8080));
    const int keepalive = args.number("keepalive", 1);
    const int idle = args.number("idle", 1), intvl = args.number("intvl", 1), count = args.number("count", 3);
    const unsigned user_timeout = static_cast<unsigned>(args.number("user-timeout", 0));
    const std::string request(static_cast<size_t>(args.number("bytes", 0)), 'x');

    int fd = lab::result("socket", socket(server.family(), SOCK_STREAM, 0));
    if (keepalive) {
        lab::result("setsockopt", setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &keepalive, sizeof keepalive));
        lab::result("setsockopt", setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle));    // idle seconds before the first probe
        lab::result("setsockopt", setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof intvl)); // seconds between probes
        lab::result("setsockopt", setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof count));   // unanswered probes before giving up
    }
    if (user_timeout > 0)  // milliseconds the peer may stay silent
        lab::result("setsockopt", setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout, sizeof user_timeout));
    lab::result("connect", connect(fd, server.sa(), server.len));
    if (!request.empty()) lab::result("send", send(fd, request.data(), request.size(), 0));

    lab::step("idle");  // the peer goes silent, reboots or crashes here
    pollfd pfd{fd, POLLIN, 0};
    if (lab::result("poll", poll(&pfd, 1, args.number("wait-ms", -1))) > 0) {  // 0: no news at all
        char reply[64];
        lab::result("recv", recv(fd, reply, sizeof reply, 0));  // 0 (FIN), ECONNRESET or ETIMEDOUT
    }
    lab::step("close");
    lab::result("close", close(fd));
}
