// syn_queue server: listen() with a small backlog and never accept(): the kernel alone answers the
// SYNs, keeps a request socket (SYN_RECV) for each in the SYN queue, or sends a SYN cookie instead.
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
