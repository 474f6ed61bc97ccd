// reuseport server: two listening sockets on one address and port, both with SO_REUSEPORT set
// before bind(), so that the kernel shares new connections between them. The first listens
// alone until the harness lets the second one in; then the server either drains the first
// listener's queue or closes that listener with connections still in it, and drains the second.
//
//   server --addr 198.18.0.2 --port 8080 --backlog 16 --close_first 0|1
//     --close_first 1   close() the first listener instead of accept()ing on it
#include <sys/socket.h>
#include <unistd.h>

#include <vector>

#include "program/lab.hpp"

// A non-blocking listener (accept() says EAGAIN when its queue is empty) sharing the port.
static int reuseport_listener(const lab::Address& addr, int backlog) {
    int fd = lab::result("socket", socket(addr.family(), SOCK_STREAM | SOCK_NONBLOCK, 0));
    int one = 1;
    lab::result("setsockopt", setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one));
    lab::result("bind", bind(fd, addr.sa(), addr.len));
    lab::result("listen", listen(fd, backlog));
    return fd;
}

// accept() until this listener's own queue is empty (-1 EAGAIN).
static void accept_all(int listener, std::vector<int>& conns) {
    int conn;
    while ((conn = lab::result("accept", accept(listener, nullptr, nullptr))) >= 0) conns.push_back(conn);
}

int main(int argc, char** argv) {
    lab::Args args(argc, argv, "--addr IP --port N --backlog N --close_first 0|1");
    lab::Address addr = lab::address(args.text("addr", "198.18.0.2"), args.number("port", 8080));
    const int backlog = args.number("backlog", 16);
    std::vector<int> conns;

    int first = reuseport_listener(addr, backlog);
    lab::mark("first_listening");
    lab::step("second");
    int second = reuseport_listener(addr, backlog);  // same address and port: the same reuseport group
    lab::mark("listening");

    if (args.number("close_first", 0)) {
        lab::step("close_first");
        lab::result("close", close(first));  // with connections still in its accept queue
    } else {
        lab::step("accept_first");
        accept_all(first, conns);
    }
    lab::step("accept_second");
    accept_all(second, conns);

    lab::step("close");
    for (int conn : conns) lab::result("close", close(conn));
    if (!args.number("close_first", 0)) lab::result("close", close(first));
    lab::result("close", close(second));
}
