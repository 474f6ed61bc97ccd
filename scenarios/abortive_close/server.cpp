// abortive_close server: accepts one connection and reads until recv() returns end of file or an
// error, which tells how the client's side ended: 0 for a FIN, -1 ECONNRESET for a RST.
//
//   server --addr 198.18.0.2 --port 8080
#include <sys/socket.h>
#include <unistd.h>

#include "program/lab.hpp"

int main(int argc, char** argv) {
    lab::Args args(argc, argv, "--addr IP --port N");
    lab::Address addr = lab::address(args.text("addr", "198.18.0.2"), args.number("port", 8080));

    int listener = lab::result("socket", socket(addr.family(), SOCK_STREAM, 0));
    lab::result("bind", bind(listener, addr.sa(), addr.len));
    lab::result("listen", listen(listener, 1));
    lab::mark("listening");
    int conn = lab::result("accept", accept(listener, nullptr, nullptr));

    lab::step("read");
    char buf[4096];
    while (lab::result("recv", recv(conn, buf, sizeof buf, 0)) > 0) {  // data, then 0 (FIN) or -1 (RST)
    }

    lab::step("close");
    lab::result("close", close(conn));
    lab::result("close", close(listener));
}
