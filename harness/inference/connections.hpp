// Inference: each TCP connection of a capture, and the state each of its two ends was in, worked out
// from the segments alone with RFC 9293's state machine (section 3.3.2), the way a reader of a
// tcpdump works it out by hand. Nothing here saw a kernel: the states are what the segments imply
// at the capture point, which is why the pictures mark them as inferred.
//
// What a capture cannot tell, and how this resolves it:
// - A capture point near one end sees that end's segments before the network does and the other
//   end's after: a segment in the capture has been sent, but not necessarily received. Each
//   segment is taken to arrive when it is seen, except where the sender's own ACK number shows it
//   had not received the other side's FIN yet when it sent its own: then both FINs were in flight
//   together (a simultaneous close, both ends CLOSING), not the passive close the order suggests.
// - TIME_WAIT ends by a timer (60 s on Linux) that puts nothing on the wire: an end in TIME_WAIT
//   at the end of the capture is reported so.
// - A capture that starts mid-connection has no handshake: both ends are taken to be ESTABLISHED
//   before its first segment, and the connection says so.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "capture/capture.hpp"

namespace socklab {

// RFC 9293's states, spelt as Linux's tracepoint and ss spell them (CLOSED: no socket at all, as
// before the first segment and after a reset).
enum class TcpState : uint8_t {
    CLOSED, SYN_SENT, SYN_RECV, ESTABLISHED, FIN_WAIT1, FIN_WAIT2, CLOSING, TIME_WAIT, CLOSE_WAIT, LAST_ACK
};
const char* state_name(TcpState state);

struct StateChange {
    size_t segment = 0;  // index into the connection's segments: the one that caused it
    int end = 0;         // 0 or 1, as in InferredConnection::ends
    TcpState from = TcpState::CLOSED, to = TcpState::CLOSED;
    std::string why;     // e.g. "its FIN acked no FIN of the peer's: both FINs were in flight"; usually ""
};

struct Endpoint {
    std::string address;
    uint16_t port = 0;
};

// What tshark's analysis would name on a segment ("TCP Retransmission" and so on), in the short
// words the arrows carry: "rtx", "dup ack #2", "zero window", "window probe", "keep-alive",
// "keep-alive ack", "out-of-order", "previous not captured", "reset".
using SegmentNotes = std::vector<std::string>;

struct InferredConnection {
    size_t stream = 0;     // 0, 1, ... in the order of their first segment (tshark's tcp.stream)
    Endpoint ends[2];      // 0: the end that sent the first SYN; without one, the end with the higher port
    bool opened_in_capture = false;  // the first segment was a SYN without ACK
    std::vector<Segment> segments;   // in file order
    std::vector<SegmentNotes> notes;  // one per segment
    std::vector<StateChange> changes;  // in order
    TcpState initial[2] = {TcpState::CLOSED, TcpState::CLOSED};  // ESTABLISHED when begun mid-connection
    TcpState state[2] = {TcpState::CLOSED, TcpState::CLOSED};    // at the end of the capture
    size_t resets = 0, retransmissions = 0, not_captured = 0, truncated = 0;

    int end_of(const Segment& s) const { return s.src == ends[0].address && s.sport == ends[0].port ? 0 : 1; }
    double duration_s() const;
};

// Feeds segments one at a time (as read_capture streams them) and keeps each connection's
// segments, notes and state changes. A SYN on the four-tuple of a connection that has ended (both
// ends CLOSED or TIME_WAIT) starts a new connection, as port reuse after TIME_WAIT does.
class ConnectionTracker {
public:
    ConnectionTracker();
    ~ConnectionTracker();
    ConnectionTracker(const ConnectionTracker&) = delete;
    ConnectionTracker& operator=(const ConnectionTracker&) = delete;
    void add(const Segment& segment);
    // The connections, by stream number. The tracker is empty afterwards.
    std::vector<InferredConnection> finish();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// Every connection's states from a list of segments (tests, and small captures).
std::vector<InferredConnection> infer_connections(const std::vector<Segment>& segments);

}  // namespace socklab
