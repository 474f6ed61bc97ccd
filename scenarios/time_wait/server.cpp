// time_wait server: accepts one or two connections; closes connection A first (shutdown(), then
// reads the client's FIN: its end becomes the TIME_WAIT entry) or after the client; closes a
// second connection B with close() (an orphan in FIN_WAIT2); keeps listening for a reconnection
// and takes it, if the kernel made one, with an accept() on the listener made non-blocking.
//
//   server --addr 198.18.0.2 --port 8080 --connections 1|2 --active 0|1 --accept-again 0|1
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "program/lab.hpp"

int main(int argc, char** argv) {
    lab::Args args(argc, argv, "--addr IP --port N --connections 1|2 --active 0|1 --accept-again 0|1");
    lab::Address addr = lab::address(args.text("addr", "198.18.0.2"), args.number("port", 8080));
    const int connections = args.number("connections", 1), active = args.number("active", 0);
    const int accept_again = args.number("accept-again", 0);

    int listener = lab::result("socket", socket(addr.family(), SOCK_STREAM, 0));
    int one = 1;
    lab::result("setsockopt", setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one));
    lab::result("bind", bind(listener, addr.sa(), addr.len));
    lab::result("listen", listen(listener, 5));
    lab::mark("listening");
    int a = lab::result("accept", accept(listener, nullptr, nullptr));
    int b = connections == 2 ? lab::result("accept", accept(listener, nullptr, nullptr)) : -1;
    lab::mark("accepted");

    char buf[16];
    if (active) {
        lab::step("close");
        lab::result("shutdown", shutdown(a, SHUT_WR));     // our FIN first: FIN_WAIT1, FIN_WAIT2
        lab::result("recv", recv(a, buf, sizeof buf, 0));  // 0 at the client's FIN: TIME_WAIT
    } else {
        lab::result("recv", recv(a, buf, sizeof buf, 0));  // 0 at the client's FIN: CLOSE_WAIT
    }
    lab::result("close", close(a));  // active: the descriptor's socket is already CLOSE; passive: LAST_ACK
    if (b >= 0) {
        lab::step("close_b");
        lab::result("close", close(b));  // an orphan: FIN_WAIT1, then FIN_WAIT2 for tcp_fin_timeout
    }
    if (accept_again) {
        lab::step("accept_again");  // the harness has seen what the reconnection came to
        lab::result("fcntl", fcntl(listener, F_SETFL, O_NONBLOCK));  // accept() must not wait for what never comes
        int c = lab::result("accept", accept(listener, nullptr, nullptr));  // EAGAIN: no connection
        if (c >= 0) lab::result("close", close(c));
    }
    lab::result("close", close(listener));
}
