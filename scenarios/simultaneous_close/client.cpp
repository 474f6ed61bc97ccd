// simultaneous_close client: connects to the server, from a fixed port (the server's port + 1)
// when the server connects back to it (--open 1: simultaneous open, nobody listens), and closes
// when the harness says so.
//
//   client --addr 198.18.0.2 --port 8080 --peer 198.18.0.2 --open 0|1
#include <sys/socket.h>
#include <unistd.h>

#include "program/lab.hpp"

int main(int argc, char** argv) {
    lab::Args args(argc, argv, "--addr IP --port N --peer IP --open 0|1");
    const int port = args.number("port", 8080);
    lab::Address server = lab::address(args.text("peer", "198.18.0.2"), port);
    const bool open = args.number("open", 0) != 0;

    int fd = lab::result("socket", socket(server.family(), SOCK_STREAM, 0));
    if (open) {
        // The port the server's connect() aims at: bound, never listened on.
        lab::Address me = lab::address(server.family() == AF_INET6 ? "::" : "0.0.0.0", port + 1);
        lab::result("bind", bind(fd, me.sa(), me.len));
    }
    lab::mark("connecting");
    lab::result("connect", connect(fd, server.sa(), server.len));  // returns once ESTABLISHED

    lab::step("close");
    lab::result("close", close(fd));
}
