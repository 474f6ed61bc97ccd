// rst_on_close_unread server: accept() a connection, wait until the client's data has arrived,
// read --read bytes of it (maybe none, maybe all), then close(). What is still unread decides
// between a RST and a FIN.
//
//   server --addr 198.18.0.2 --port 8080 --read 0
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <vector>

#include "program/lab.hpp"

int main(int argc, char** argv) {
    lab::Args args(argc, argv, "--addr IP --port N --read N");
    lab::Address addr = lab::address(args.text("addr", "198.18.0.2"), args.number("port", 8080));
    const int to_read = args.number("read", 0);
    std::vector<char> buf(static_cast<size_t>(to_read) + 1);

    int listener = lab::result("socket", socket(addr.family(), SOCK_STREAM, 0));
    lab::result("bind", bind(listener, addr.sa(), addr.len));
    lab::result("listen", listen(listener, 5));
    lab::mark("listening");

    int conn = lab::result("accept", accept(listener, nullptr, nullptr));

    // Wait until the data is in the receive queue, without taking any of it.
    pollfd pfd{conn, POLLIN, 0};
    lab::result("poll", poll(&pfd, 1, -1));
    if (to_read > 0)  // MSG_WAITALL: exactly to_read bytes, however the data was segmented
        lab::result("recv", recv(conn, buf.data(), static_cast<size_t>(to_read), MSG_WAITALL));

    lab::step("close");
    lab::result("close", close(conn));  // unread data left: RST instead of FIN
    lab::result("close", close(listener));
}
