// zero_window server, the reader: a small receive buffer (set on the listener, before listen(), so
// the accepted socket has it from its SYN-ACK on), and no recv() until the harness says so. Its
// window then closes; at step read it reads everything until the writer closes (--read 1), or
// closes without reading (--read 0: the data it never read makes that close a RST).
//
//   server --addr 198.18.0.2 --port 8080 --rcvbuf 4096 --read 1
#include <sys/socket.h>
#include <unistd.h>

#include <vector>

#include "program/lab.hpp"

int main(int argc, char** argv) {
    lab::Args args(argc, argv, "--addr IP --port N --rcvbuf N --read 0|1");
    lab::Address addr = lab::address(args.text("addr", "198.18.0.2"), args.number("port", 8080));
    const int rcvbuf = args.number("rcvbuf", 4096);
    const bool read = args.number("read", 1) != 0;

    int listener = lab::result("socket", socket(addr.family(), SOCK_STREAM, 0));
    lab::result("setsockopt", setsockopt(listener, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf));  // before listen
    lab::result("bind", bind(listener, addr.sa(), addr.len));
    lab::result("listen", listen(listener, 1));
    lab::mark("listening");
    int conn = lab::result("accept", accept(listener, nullptr, nullptr));

    lab::step("read");  // until then nobody reads: the receive queue fills and the window closes
    std::vector<char> buf(65536);
    while (read && lab::result("recv", recv(conn, buf.data(), buf.size(), 0)) > 0) {
    }
    lab::result("close", close(conn));
    lab::result("close", close(listener));
}
