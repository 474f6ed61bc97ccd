// backlog_overflow server: listen() with a small backlog and never accept(), so every completed
// handshake stays in the accept queue until the queue is full.
//
//   server --addr 198.18.0.2 --port 8080 --backlog 5
#include <sys/socket.h>
#include <unistd.h>

#include "program/lab.hpp"

int main(int argc, char** argv) {
    lab::Args args(argc, argv, "--addr IP --port N --backlog N");
    lab::Address addr = lab::address(args.text("addr", "198.18.0.2"), args.number("port", 8080));

    int listener = lab::result("socket", socket(addr.family(), SOCK_STREAM, 0));
    lab::result("bind", bind(listener, addr.sa(), addr.len));
    lab::result("listen", listen(listener, args.number("backlog", 5)));
    lab::mark("listening");

    lab::step("close");  // no accept(): the kernel completes handshakes into the queue on its own
    lab::result("close", close(listener));
}
