// rst_on_close_unread client: send some bytes, then wait for the server's answer to them, which
// is only its close(): recv() reports how the connection ended (ECONNRESET or 0), a second
// recv() what is left of it, and a later send() whether it can still be written to.
//
//   client --addr 198.18.0.2 --port 8080 --bytes 100 --send-after 1
#include <sys/socket.h>
#include <unistd.h>

#include <vector>

#include "program/lab.hpp"

int main(int argc, char** argv) {
    lab::Args args(argc, argv, "--addr IP --port N --bytes N --send-after 1|0");
    lab::Address server = lab::address(args.text("addr", "198.18.0.2"), args.number("port", 8080));
    std::vector<char> data(static_cast<size_t>(args.number("bytes", 100)), 'x');
    char buf[4096];

    int fd = lab::result("socket", socket(server.family(), SOCK_STREAM, 0));
    lab::result("connect", connect(fd, server.sa(), server.len));
    lab::result("send", send(fd, data.data(), data.size(), 0));

    lab::result("recv", recv(fd, buf, sizeof buf, 0));  // blocks until the server's RST or FIN
    lab::result("recv", recv(fd, buf, sizeof buf, 0));  // after a RST: 0, the socket is closed

    if (args.number("send-after", 1)) {
        // MSG_NOSIGNAL: on a reset connection send() fails with EPIPE and would also raise
        // SIGPIPE, whose default action kills us; we want to see the -1 EPIPE instead.
        lab::result("send", send(fd, data.data(), data.size(), MSG_NOSIGNAL));
    }

    lab::step("close");
    lab::result("close", close(fd));
}
