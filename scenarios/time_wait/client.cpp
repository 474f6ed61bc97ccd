// time_wait client: one or two connections to the server; either closes first (its end then
// becomes a TIME_WAIT entry) or waits for the server's FIN; then, optionally, connects again:
// from the same port it had (to meet the server's TIME_WAIT entry) or by letting connect() pick
// the port, retried until the kernel lets it (to meet its own entry).
//
//   client --addr 198.18.0.2 --port 8080 --connections 1|2 --active 0|1 --reconnect 0|1|2
//          --isn 0|N --newer 0|1 --tries N --retry-ms M
//     --active 1     the client closes connection A first (shutdown(), then reads the FIN)
//     --reconnect 1  a new socket bound to A's port connects once
//     --reconnect 2  new sockets connect() with the port chosen by the kernel, every --retry-ms,
//                    until one succeeds or --tries have failed
//     --isn N        A's initial sequence number is N (set through TCP_REPAIR, below); the
//                    reconnection's is N + 100000 with --newer 1, N - 100000 with --newer 0
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "program/lab.hpp"

// The initial sequence number of the next connect(): in repair mode (CAP_NET_ADMIN) the send
// queue's sequence number may be set on a closed socket; tcp_v4_connect()/tcp_v6_connect() pick
// one with secure_tcp_seq() only when write_seq is still 0. Repair mode is left again before
// connect(), so the SYN is an ordinary one.
static void choose_isn(int fd, unsigned isn) {
    int on = TCP_REPAIR_ON, queue = TCP_SEND_QUEUE, off = TCP_REPAIR_OFF_NO_WP;
    lab::result("setsockopt", setsockopt(fd, IPPROTO_TCP, TCP_REPAIR, &on, sizeof on));
    lab::result("setsockopt", setsockopt(fd, IPPROTO_TCP, TCP_REPAIR_QUEUE, &queue, sizeof queue));
    lab::result("setsockopt", setsockopt(fd, IPPROTO_TCP, TCP_QUEUE_SEQ, &isn, sizeof isn));
    lab::result("setsockopt", setsockopt(fd, IPPROTO_TCP, TCP_REPAIR, &off, sizeof off));
}

int main(int argc, char** argv) {
    lab::Args args(argc, argv, "--addr IP --port N --connections 1|2 --active 0|1 --reconnect 0|1|2 --isn N --newer 0|1 --tries N --retry-ms M");
    lab::Address server = lab::address(args.text("addr", "198.18.0.2"), args.number("port", 8080));
    const int connections = args.number("connections", 1), active = args.number("active", 0);
    const int reconnect = args.number("reconnect", 0), tries = args.number("tries", 100);
    const int retry_ms = args.number("retry-ms", 20), newer = args.number("newer", 1);
    const unsigned isn = static_cast<unsigned>(args.number("isn", 0));

    // Does this kernel have tcp_tw_reuse_delay (6.14 on)? Its /proc/sys file exists or not.
    int knob = lab::result("open", open("/proc/sys/net/ipv4/tcp_tw_reuse_delay", O_RDONLY));
    if (knob >= 0) close(knob);

    int a = lab::result("socket", socket(server.family(), SOCK_STREAM, 0));
    if (isn) choose_isn(a, isn);
    lab::result("connect", connect(a, server.sa(), server.len));
    int b = -1;
    if (connections == 2) {
        b = lab::result("socket", socket(server.family(), SOCK_STREAM, 0));
        lab::result("connect", connect(b, server.sa(), server.len));
    }
    sockaddr_storage local{};
    socklen_t local_len = sizeof local;
    if (reconnect == 1) lab::result("getsockname", getsockname(a, reinterpret_cast<sockaddr*>(&local), &local_len));  // A's port
    lab::mark("connected");

    char buf[16];
    if (active) {
        lab::step("close");
        lab::result("shutdown", shutdown(a, SHUT_WR));  // our FIN first: FIN_WAIT1, FIN_WAIT2
        lab::result("recv", recv(a, buf, sizeof buf, 0));  // 0 at the server's FIN: TIME_WAIT
        lab::result("close", close(a));
    } else {
        lab::result("recv", recv(a, buf, sizeof buf, 0));  // 0 at the server's FIN: CLOSE_WAIT
        lab::step("close");
        lab::result("close", close(a));  // LAST_ACK, then CLOSE: the port is free here
    }

    int again = -1;
    if (reconnect == 1) {  // the same four-tuple, to the server's TIME_WAIT entry
        lab::step("reconnect");
        again = lab::result("socket", socket(server.family(), SOCK_STREAM, 0));
        if (isn) choose_isn(again, newer ? isn + 100000 : isn - 100000);
        int one = 1;
        lab::result("setsockopt", setsockopt(again, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one));
        lab::result("bind", bind(again, reinterpret_cast<sockaddr*>(&local), local_len));
        lab::result("connect", connect(again, server.sa(), server.len));
        lab::mark("reconnected");
    } else if (reconnect == 2) {  // the kernel picks the port: the one of ip_local_port_range
        lab::step("reconnect");
        lab::mark("reconnecting");
        timespec next{};
        clock_gettime(CLOCK_MONOTONIC, &next);
        for (int i = 0; i < tries; ++i) {
            again = lab::result("socket", socket(server.family(), SOCK_STREAM, 0));
            if (lab::result("connect", connect(again, server.sa(), server.len)) == 0) {
                lab::result("getsockname", getsockname(again, reinterpret_cast<sockaddr*>(&local), &local_len));  // 60999 again
                break;
            }
            lab::result("close", close(again));
            again = -1;
            next.tv_nsec += retry_ms * 1000000L;  // the next try at a fixed pace, not "as fast as possible"
            if (next.tv_nsec >= 1000000000L) next.tv_sec += 1, next.tv_nsec -= 1000000000L;
            clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, nullptr);
        }
        lab::mark("reconnected");
    }
    lab::step("finish");
    if (again >= 0) lab::result("close", close(again));
    if (b >= 0) lab::result("close", close(b));
}
