// cable_pulled client: connects, then (after the harness has cut the cable) sends a few bytes and
// waits for an answer that cannot come. send() succeeds; the blocking recv() returns only when the
// kernel gives up on its retransmissions (ETIMEDOUT). With the cable back, a new connect() works.
//
//   client --addr 198.18.0.2 --port 8080 --bytes 10 [--user-timeout MS]   (0: TCP_USER_TIMEOUT not set)
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "program/lab.hpp"

int main(int argc, char** argv) {
    lab::Args args(argc, argv, "--addr IP --port N --bytes N [--user-timeout MS]");
    lab::Address server = lab::address(args.text("addr", "198.18.0.2"), args.number("port", 8080));
    const std::string data(static_cast<size_t>(args.number("bytes", 10)), 'x');
    const unsigned user_timeout = static_cast<unsigned>(args.number("user-timeout", 0));

    int fd = lab::result("socket", socket(server.family(), SOCK_STREAM, 0));
    if (user_timeout > 0)  // give up when sent data stays unacknowledged this many milliseconds
        lab::result("setsockopt", setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout, sizeof user_timeout));
    lab::result("connect", connect(fd, server.sa(), server.len));

    lab::step("send");  // the cable is pulled here
    lab::result("send", send(fd, data.data(), data.size(), 0));  // only copied into the send buffer
    char reply[64];
    lab::result("recv", recv(fd, reply, sizeof reply, 0));  // blocks until the retransmissions give up
    lab::result("send", send(fd, data.data(), data.size(), MSG_NOSIGNAL));  // the connection is gone
    lab::result("close", close(fd));

    lab::step("reconnect");  // the cable is back
    int again = lab::result("socket", socket(server.family(), SOCK_STREAM, 0));
    lab::result("connect", connect(again, server.sa(), server.len));
    lab::result("close", close(again));
}
