// connect_refused server: with --listen 0 there is no socket at all on the port; with --listen 1
// it listens, behind an nftables rule that answers the SYN before any socket sees it. It never
// accepts: it only waits until the harness lets it close.
//
//   server --addr 198.18.0.2 --port 8080 --listen 0|1
#include <sys/socket.h>
#include <unistd.h>

#include "program/lab.hpp"

int main(int argc, char** argv) {
    lab::Args args(argc, argv, "--addr IP --port N --listen 0|1");
    lab::Address addr = lab::address(args.text("addr", "198.18.0.2"), args.number("port", 8080));

    int listener = -1;
    if (args.number("listen", 0) != 0) {
        listener = lab::result("socket", socket(addr.family(), SOCK_STREAM, 0));
        lab::result("bind", bind(listener, addr.sa(), addr.len));
        lab::result("listen", listen(listener, 1));
    }
    lab::mark("ready");

    lab::step("close");
    if (listener >= 0) lab::result("close", close(listener));
}
