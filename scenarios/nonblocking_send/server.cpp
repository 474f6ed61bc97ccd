// nonblocking_send server: accepts one connection and reads nothing until told, so the client's
// data fills its receive queue and then the client's send buffer. At step read a child process
// starts reading whatever arrives; at step close the server stops it and closes with SO_LINGER
// {1, 0}, an abortive close: a RST instead of a FIN.
//
//   server --addr 198.18.0.2 --port 8080
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <vector>

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
    pid_t reader = lab::result("fork", fork());
    if (reader == 0) {  // the child reads whatever arrives, for as long as it lives
        lab::role("reader");
        std::vector<char> buf(65536);
        while (lab::result("recv", recv(conn, buf.data(), buf.size(), 0)) > 0) {
        }
        _exit(0);
    }

    lab::step("close");
    lab::result("kill", kill(reader, SIGTERM));
    lab::result("waitpid", waitpid(reader, nullptr, 0));
    linger abort_on_close{1, 0};
    lab::result("setsockopt", setsockopt(conn, SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof abort_on_close));
    lab::result("close", close(conn));  // linger 0: tcp_close() resets the connection

    lab::step("finish");  // the listener stays open until then
    lab::result("close", close(listener));
}
