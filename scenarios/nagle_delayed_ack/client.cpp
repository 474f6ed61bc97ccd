// nagle_delayed_ack client: a request/response client that writes each request in two small
// pieces (a header, then a body) before it reads the reply: write, write, read. With Nagle's
// algorithm on, the second write stays in the kernel until the first one is acknowledged.
//
//   client --addr 198.18.0.2 --port 8080 --rounds 4 --bytes 10 [--nodelay 0|1] [--cork 0|1]
//   --nodelay 1: TCP_NODELAY (no Nagle); --cork 1: TCP_CORK around the two writes (one segment)
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "program/lab.hpp"

int main(int argc, char** argv) {
    lab::Args args(argc, argv, "--addr IP --port N --rounds N --bytes N [--nodelay 0|1] [--cork 0|1]");
    lab::Address server = lab::address(args.text("addr", "198.18.0.2"), args.number("port", 8080));
    const int rounds = args.number("rounds", 4);
    const std::string piece(static_cast<size_t>(args.number("bytes", 10)), 'x');
    const int nodelay = args.number("nodelay", 0), cork = args.number("cork", 0), uncork = 0;

    // Real-time priority: a busy machine must not hold us between the two writes (see the server).
    const sched_param rt{1};
    lab::result("sched_setscheduler", sched_setscheduler(0, SCHED_FIFO, &rt));

    int fd = lab::result("socket", socket(server.family(), SOCK_STREAM, 0));
    if (nodelay)  // send each write at once, even while a small segment is unacknowledged
        lab::result("setsockopt", setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &nodelay, sizeof nodelay));
    lab::result("connect", connect(fd, server.sa(), server.len));

    lab::step("requests");
    char reply[4096];
    for (int round = 1; round <= rounds; ++round) {
        if (cork)  // hold partial segments until uncorked (or a full segment, or 200 ms)
            lab::result("setsockopt", setsockopt(fd, IPPROTO_TCP, TCP_CORK, &cork, sizeof cork));
        lab::result("send", send(fd, piece.data(), piece.size(), 0));  // the header: leaves at once
        lab::result("send", send(fd, piece.data(), piece.size(), 0));  // the body: Nagle holds it
        if (cork)  // uncork: both pieces leave now, as one segment
            lab::result("setsockopt", setsockopt(fd, IPPROTO_TCP, TCP_CORK, &uncork, sizeof uncork));
        lab::result("recv", recv(fd, reply, sizeof reply, 0));  // the reply to the whole request
    }
    lab::mark("answered");
    lab::result("recv", recv(fd, reply, sizeof reply, 0));  // 0: the server closed
    lab::result("close", close(fd));
}
