// cable_pulled server: accepts a connection and sits on it. It never hears that the client gave
// up, so its side stays ESTABLISHED; once the cable is back it accepts the client's new connection.
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

    int first = lab::result("accept", accept(listener, nullptr, nullptr));
    lab::step("accept");  // the cable is pulled, the client gives up, the cable is plugged back
    int second = lab::result("accept", accept(listener, nullptr, nullptr));

    lab::step("close");
    lab::result("close", close(second));
    lab::result("close", close(first));  // the client forgot this connection: the FIN draws a RST
    lab::result("close", close(listener));
}
