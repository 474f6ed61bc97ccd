// server_closes_first server: accepts one connection and ends its side of it first. By default
// with close(), which leaves the socket to the kernel (an orphan); with --shutdown 1 with
// shutdown(SHUT_WR), keeping the descriptor, then waiting --wait-ms to show that nothing times out,
// and reading what the client still sends.
//
//   server --addr 198.18.0.2 --port 8080 [--shutdown 1 --wait-ms 4000]
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "program/lab.hpp"

int main(int argc, char** argv) {
    lab::Args args(argc, argv, "--addr IP --port N [--shutdown 0|1] [--wait-ms N]");
    lab::Address addr = lab::address(args.text("addr", "198.18.0.2"), args.number("port", 8080));

    int listener = lab::result("socket", socket(addr.family(), SOCK_STREAM, 0));
    lab::result("bind", bind(listener, addr.sa(), addr.len));
    lab::result("listen", listen(listener, 1));
    lab::mark("listening");
    int conn = lab::result("accept", accept(listener, nullptr, nullptr));

    lab::step("close");
    if (args.number("shutdown", 0) == 0) {
        // The last descriptor goes: tcp_close() sends a FIN and the socket becomes an orphan.
        lab::result("close", close(conn));
    } else {
        // A FIN too, but the descriptor stays: the connection can still receive.
        lab::result("shutdown", shutdown(conn, SHUT_WR));
        pollfd pfd{conn, POLLIN, 0};
        lab::result("poll", poll(&pfd, 1, args.number("wait-ms", 0)));  // 0: nothing came, nothing ended

        lab::step("read");
        char buf[512];
        lab::result("recv", recv(conn, buf, sizeof buf, 0));  // the client's data
        lab::result("recv", recv(conn, buf, sizeof buf, 0));  // 0 once the client's FIN arrives
        lab::result("close", close(conn));
    }

    lab::step("finish");  // the listener stays open until then
    lab::result("close", close(listener));
}
