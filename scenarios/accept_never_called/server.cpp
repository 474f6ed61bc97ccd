// accept_never_called server: listen(), then leave the connection in the accept queue while the
// client sends and closes; only when told to, accept() it, read it to the end and close() it
// (or, with --close 0, pass its step "close" without closing it: the descriptor leak of blog
// section 3.2).
//
//   server --addr 198.18.0.2 --port 8080 --backlog 5 --close 1
#include <sys/socket.h>
#include <unistd.h>

#include "program/lab.hpp"

int main(int argc, char** argv) {
    lab::Args args(argc, argv, "--addr IP --port N --backlog N --close 1|0");
    lab::Address addr = lab::address(args.text("addr", "198.18.0.2"), args.number("port", 8080));

    int listener = lab::result("socket", socket(addr.family(), SOCK_STREAM, 0));
    lab::result("bind", bind(listener, addr.sa(), addr.len));
    lab::result("listen", listen(listener, args.number("backlog", 5)));
    lab::mark("listening");

    // Meanwhile the kernel completes the handshake, takes the client's data and FIN, and the
    // connection sits in the accept queue in CLOSE_WAIT with no file descriptor.
    lab::step("accept");
    int conn = lab::result("accept", accept(listener, nullptr, nullptr));

    lab::step("read");
    char buf[4096];
    lab::result("recv", recv(conn, buf, sizeof buf, 0));  // the data queued before accept()
    lab::result("recv", recv(conn, buf, sizeof buf, 0));  // 0: the client's FIN

    lab::step("close");
    if (args.number("close", 1))
        lab::result("close", close(conn));  // our FIN: CLOSE_WAIT -> LAST_ACK
    // With --close 0 the step passes without a close(): the connection stays in CLOSE_WAIT until
    // the process exits and the kernel closes its descriptors.

    lab::step("end");
    lab::result("close", close(listener));
}
