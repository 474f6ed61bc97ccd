// syn_queue client: sends a burst of SYNs with non-blocking connect()s and gives up on them at
// once (their SYN-ACKs are dropped on the way back, so none could complete), then, with --last 1,
// one more connection from port --port, whose SYN-ACK is let through, with a blocking connect().
//
//   client --addr 198.18.0.2 --port 8080 --connections 8 --last 0|1
#include <sys/socket.h>
#include <unistd.h>

#include <vector>

#include "program/lab.hpp"

int main(int argc, char** argv) {
    lab::Args args(argc, argv, "--addr IP --port N --connections N --last 0|1");
    const int port = args.number("port", 8080);
    lab::Address server = lab::address(args.text("addr", "198.18.0.2"), port);
    std::vector<int> fds;

    for (int i = 0; i < args.number("connections", 8); ++i) {
        int fd = lab::result("socket", socket(server.family(), SOCK_STREAM | SOCK_NONBLOCK, 0));
        // The SYN leaves inside connect(); EINPROGRESS: the handshake would finish later.
        lab::result("connect", connect(fd, server.sa(), server.len));
        fds.push_back(fd);
    }
    lab::mark("sent");
    // A socket closed in SYN_SENT sends nothing (tcp_close_state()): no SYN is ever resent, and
    // what the server does with each SYN is its own doing.
    for (int fd : fds) lab::result("close", close(fd));
    if (args.number("last", 0) == 0) return 0;

    lab::step("last");
    int fd = lab::result("socket", socket(server.family(), SOCK_STREAM, 0));
    // From the local port equal to the server's: the one port whose SYN-ACKs the client lets in.
    lab::Address local = lab::address(server.family() == AF_INET6 ? "::" : "0.0.0.0", port);
    lab::result("bind", bind(fd, local.sa(), local.len));
    lab::result("connect", connect(fd, server.sa(), server.len));
    lab::step("close");
    lab::result("close", close(fd));
}
