// backlog_overflow client: opens connections one at a time with a blocking connect(), then a
// second batch once the harness allows it, and keeps them all open until told to close.
//
//   client --addr 198.18.0.2 --port 8080 --connections 7 --more 0
#include <sys/socket.h>
#include <unistd.h>

#include <vector>

#include "program/lab.hpp"

int main(int argc, char** argv) {
    lab::Args args(argc, argv, "--addr IP --port N --connections N --more N");
    lab::Address server = lab::address(args.text("addr", "198.18.0.2"), args.number("port", 8080));
    std::vector<int> fds;

    auto open_connections = [&](int count) {
        for (int i = 0; i < count; ++i) {
            int fd = lab::result("socket", socket(server.family(), SOCK_STREAM, 0));
            // Blocks until the handshake completes, or until the SYN retransmits run out (ETIMEDOUT).
            lab::result("connect", connect(fd, server.sa(), server.len));
            fds.push_back(fd);
        }
    };

    open_connections(args.number("connections", 7));
    if (args.number("more", 0) > 0) {
        lab::step("more");
        open_connections(args.number("more", 0));
    }

    lab::step("close");
    for (int fd : fds) lab::result("close", close(fd));
}
