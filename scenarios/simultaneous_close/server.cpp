// simultaneous_close server: one connection, made either by accept() (--open 0) or by a connect()
// of its own to the client's fixed port with no listener anywhere (--open 1, simultaneous open).
// It then closes when the harness says so: before, after or at the same time as the client.
//
//   server --addr 198.18.0.2 --port 8080 --peer 198.18.0.1 --open 0|1
#include <sys/socket.h>
#include <unistd.h>

#include "program/lab.hpp"

int main(int argc, char** argv) {
    lab::Args args(argc, argv, "--addr IP --port N --peer IP --open 0|1");
    const int port = args.number("port", 8080);
    lab::Address me = lab::address(args.text("addr", "198.18.0.2"), port);
    const bool open = args.number("open", 0) != 0;

    int fd = lab::result("socket", socket(me.family(), SOCK_STREAM, 0));
    lab::result("bind", bind(fd, me.sa(), me.len));  // a fixed port in both modes
    int conn;
    if (open) {
        // No listen(): a connect() to the client's fixed port (port + 1), which connects to ours.
        lab::Address peer = lab::address(args.text("peer", "198.18.0.1"), port + 1);
        lab::mark("connecting");
        lab::result("connect", connect(fd, peer.sa(), peer.len));  // returns once ESTABLISHED
        conn = fd;
    } else {
        lab::result("listen", listen(fd, 1));
        lab::mark("listening");
        conn = static_cast<int>(lab::result("accept", accept(fd, nullptr, nullptr)));
    }

    lab::step("close");
    lab::result("close", close(conn));  // FIN; the kernel finishes the close without us
    if (conn != fd) lab::result("close", close(fd));
}
