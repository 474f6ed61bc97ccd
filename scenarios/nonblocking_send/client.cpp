// nonblocking_send client: what send() returns on a non-blocking socket. A zero-length send() on a
// fresh connection, sends of --chunk bytes until the kernel takes no more (the server does not
// read), one byte and zero bytes on the full connection, poll() for room and one more send() once
// the server reads, and sends after the server's RST. MSG_NOSIGNAL on every send(): EPIPE is a
// return value, not a signal.
//
//   client --addr 198.18.0.2 --port 8080 --chunk 65536
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <vector>

#include "program/lab.hpp"

int main(int argc, char** argv) {
    lab::Args args(argc, argv, "--addr IP --port N --chunk N");
    lab::Address server = lab::address(args.text("addr", "198.18.0.2"), args.number("port", 8080));
    const size_t chunk = static_cast<size_t>(args.number("chunk", 65536));
    std::vector<char> buf(chunk, 'x');

    int fd = lab::result("socket", socket(server.family(), SOCK_STREAM, 0));
    lab::result("connect", connect(fd, server.sa(), server.len));
    int flags = lab::result("fcntl", fcntl(fd, F_GETFL));
    lab::result("fcntl", fcntl(fd, F_SETFL, flags | O_NONBLOCK));  // from here on nothing blocks

    lab::result("send", send(fd, buf.data(), 0, MSG_NOSIGNAL));  // 0: there was nothing to copy

    lab::step("fill");
    // The server reads nothing. send() copies what fits in the send buffer, -1 EAGAIN when nothing
    // does; then poll() waits for room (POLLOUT), or for the word that the kernel shows the
    // connection full: the server's window closed and nothing in flight.
    while (lab::result("send", send(fd, buf.data(), chunk, MSG_NOSIGNAL)) > 0 || !lab::step_or("full", fd, POLLOUT)) {
    }
    // What ACKs freed since the last EAGAIN (too little for POLLOUT), then nothing more, ever.
    while (lab::result("send", send(fd, buf.data(), chunk, MSG_NOSIGNAL)) > 0) {
    }

    lab::step("try_full");
    lab::result("send", send(fd, buf.data(), 1, MSG_NOSIGNAL));  // -1 EAGAIN: not even one byte
    lab::result("send", send(fd, buf.data(), 0, MSG_NOSIGNAL));  // 0: full, but nothing to copy

    lab::step("wait_room");
    // The textbook answer to EAGAIN: wait until the kernel reports room (the server reads), then send.
    pollfd pfd{fd, POLLOUT, 0};
    lab::result("poll", poll(&pfd, 1, -1));                          // 1: writable
    lab::result("send", send(fd, buf.data(), chunk, MSG_NOSIGNAL));  // accepted again

    lab::step("after_reset");  // the server has reset the connection
    lab::result("send", send(fd, buf.data(), chunk, MSG_NOSIGNAL));  // -1 ECONNRESET, the pending error
    lab::result("send", send(fd, buf.data(), chunk, MSG_NOSIGNAL));  // -1 EPIPE
    lab::result("send", send(fd, buf.data(), 0, MSG_NOSIGNAL));      // -1 EPIPE, even for zero bytes
    lab::result("close", close(fd));
}
