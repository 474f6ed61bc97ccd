// sigpipe_vs_msg_nosignal server: accepts one connection and closes it without reading a byte.
// With --await-data 1 it first waits (poll) until the client's data sits unread in its receive
// queue, so that close() answers with a RST instead of a FIN.
//
//   server --addr 198.18.0.2 --port 8080 [--await-data 1]
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "program/lab.hpp"

int main(int argc, char** argv) {
    lab::Args args(argc, argv, "--addr IP --port N [--await-data 0|1]");
    lab::Address addr = lab::address(args.text("addr", "198.18.0.2"), args.number("port", 8080));

    int listener = lab::result("socket", socket(addr.family(), SOCK_STREAM, 0));
    lab::result("bind", bind(listener, addr.sa(), addr.len));
    lab::result("listen", listen(listener, 1));
    lab::mark("listening");
    int conn = lab::result("accept", accept(listener, nullptr, nullptr));

    if (args.number("await-data", 0)) {
        pollfd pfd{conn, POLLIN, 0};
        lab::result("poll", poll(&pfd, 1, -1));  // 1: the client's bytes arrived; they are never read
    }

    lab::step("close");
    // Nothing unread: a FIN (the socket lives on as an orphan). Unread data: a RST and no FIN.
    lab::result("close", close(conn));

    lab::step("finish");  // the listener stays open until then
    lab::result("close", close(listener));
}
