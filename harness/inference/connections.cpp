#include "inference/connections.hpp"

#include <algorithm>
#include <optional>
#include <unordered_map>
#include <utility>

namespace socklab {

const char* state_name(TcpState state) {
    switch (state) {
        case TcpState::CLOSED: return "CLOSED";
        case TcpState::SYN_SENT: return "SYN_SENT";
        case TcpState::SYN_RECV: return "SYN_RECV";
        case TcpState::ESTABLISHED: return "ESTABLISHED";
        case TcpState::FIN_WAIT1: return "FIN_WAIT1";
        case TcpState::FIN_WAIT2: return "FIN_WAIT2";
        case TcpState::CLOSING: return "CLOSING";
        case TcpState::TIME_WAIT: return "TIME_WAIT";
        case TcpState::CLOSE_WAIT: return "CLOSE_WAIT";
        case TcpState::LAST_ACK: return "LAST_ACK";
    }
    return "?";
}

double InferredConnection::duration_s() const {
    if (segments.empty()) return 0;
    return static_cast<double>(segments.back().time_ns - segments.front().time_ns) / 1e9;
}

namespace {

// Sequence numbers compare modulo 2^32 (RFC 9293 3.4).
bool before(uint32_t a, uint32_t b) { return static_cast<int32_t>(a - b) < 0; }

// What the analysis remembers of one end's segments.
struct EndTrack {
    bool seq_known = false;
    uint32_t next_seq = 0;             // one past the highest sequence number it has sent
    std::optional<uint32_t> isn;       // from its SYN
    bool syn_acked = false;
    std::optional<uint32_t> fin_seq;   // the sequence number its FIN takes
    bool fin_acked = false;
    bool has_ack = false;
    uint32_t last_ack = 0;
    uint16_t last_window = 0;
    int dup_acks = 0;
    bool last_was_keepalive = false;
    std::vector<std::pair<uint32_t, uint32_t>> holes;  // [from, to) skipped: not captured (yet)

    // A segment that fills a hole arrived out of order; the hole shrinks to what is still missing.
    bool fill_hole(uint32_t seq, uint32_t end) {
        for (auto it = holes.begin(); it != holes.end(); ++it) {
            if (before(seq, it->first) || !before(seq, it->second)) continue;
            const auto [from, to] = *it;
            holes.erase(it);
            if (before(from, seq)) holes.emplace_back(from, seq);
            if (before(end, to)) holes.emplace_back(end, to);
            return true;
        }
        return false;
    }
};

bool ended(const InferredConnection& c) {
    auto done = [](TcpState s) { return s == TcpState::CLOSED || s == TcpState::TIME_WAIT; };
    return done(c.state[0]) && done(c.state[1]);
}

std::string four_tuple(const Segment& s) {
    std::string a = s.src + "|" + std::to_string(s.sport), b = s.dst + "|" + std::to_string(s.dport);
    return a < b ? a + "|" + b : b + "|" + a;
}

}  // namespace

struct ConnectionTracker::Impl {
    struct Flow {
        EndTrack end[2];
    };
    std::vector<InferredConnection> connections;
    std::vector<Flow> flows;  // parallel to connections
    std::unordered_map<std::string, size_t> newest;  // four-tuple -> its newest connection

    InferredConnection& start(const Segment& s) {
        InferredConnection c;
        c.stream = connections.size();
        const bool syn = s.flags & SYN, ack = s.flags & ACK;
        const Endpoint src{s.src, s.sport}, dst{s.dst, s.dport};
        if (syn && !ack) {
            c.ends[0] = src, c.ends[1] = dst;
            c.opened_in_capture = true;
        } else if (syn) {  // the SYN itself was missed: the SYN-ACK's receiver sent it
            c.ends[0] = dst, c.ends[1] = src;
            c.initial[0] = c.state[0] = TcpState::SYN_SENT;
        } else {  // mid-connection: the ephemeral (higher) port is most likely the client's
            const bool src_first = s.sport > s.dport;
            c.ends[0] = src_first ? src : dst, c.ends[1] = src_first ? dst : src;
            for (int e : {0, 1}) c.initial[e] = c.state[e] = TcpState::ESTABLISHED;
        }
        connections.push_back(std::move(c));
        flows.emplace_back();
        return connections.back();
    }

    void add(const Segment& s) {
        const std::string key = four_tuple(s);
        const auto it = newest.find(key);
        const bool new_syn = (s.flags & SYN) && !(s.flags & ACK);
        size_t index;
        if (it == newest.end()) {
            index = start(s).stream;
        } else {
            index = it->second;
            const InferredConnection& c = connections[index];
            const EndTrack& sender = flows[index].end[c.end_of(s)];
            // Port reuse: a SYN with a new ISN once the old connection is over is a new one.
            if (new_syn && ended(c) && (!sender.isn || *sender.isn != s.seq)) index = start(s).stream;
        }
        newest[key] = index;
        process(connections[index], flows[index], s);
    }

    static void process(InferredConnection& c, Flow& flow, const Segment& seg);
};

namespace {

// tshark's analysis of one segment (epan/dissectors/packet-tcp.c, tcp_analyze_sequence_number),
// in the short words of the arrows. `me` sent it, `peer` is the other end.
SegmentNotes analyze(const Segment& seg, EndTrack& me, const EndTrack& peer, InferredConnection& c) {
    SegmentNotes notes;
    const bool syn = seg.flags & SYN, fin = seg.flags & FIN, rst = seg.flags & RST, ack = seg.flags & ACK;
    const uint32_t space = seg.len + (syn ? 1 : 0) + (fin ? 1 : 0);
    const bool plain = !syn && !fin && !rst;
    bool keepalive = false;
    if (rst) notes.push_back("reset"), ++c.resets;
    if (plain && seg.len <= 1 && me.seq_known && seg.seq == me.next_seq - 1) {
        // One byte (or none) below what was already sent: a keep-alive, or, against a zero
        // window, Linux's window probe (tcp_xmit_probe_skb sends snd_una - 1 as a keep-alive does).
        keepalive = true;
        notes.push_back(peer.has_ack && peer.last_window == 0 ? "window probe" : "keep-alive");
    } else if (plain && seg.len == 1 && me.seq_known && seg.seq == me.next_seq && peer.has_ack &&
               peer.last_window == 0) {
        notes.push_back("window probe");
    } else if (space > 0 && me.seq_known) {
        if (before(seg.seq, me.next_seq)) {
            if (me.fill_hole(seg.seq, seg.seq + space)) notes.push_back("out-of-order");
            else notes.push_back("rtx"), ++c.retransmissions;
        } else if (before(me.next_seq, seg.seq)) {
            notes.push_back("previous not captured"), ++c.not_captured;
            me.holes.emplace_back(me.next_seq, seg.seq);
        }
    }
    if (ack && plain && seg.len == 0 && !keepalive) {
        if (peer.last_was_keepalive) {
            notes.push_back("keep-alive ack");
        } else if (me.has_ack && seg.ack == me.last_ack && seg.window == me.last_window &&
                   (!me.seq_known || seg.seq == me.next_seq)) {
            notes.push_back("dup ack #" + std::to_string(++me.dup_acks));
        } else {
            me.dup_acks = 0;
        }
    }
    if (plain && seg.window == 0) notes.push_back("zero window");
    if (seg.truncated) ++c.truncated;
    me.last_was_keepalive = keepalive;
    return notes;
}

}  // namespace

void ConnectionTracker::Impl::process(InferredConnection& c, Flow& flow, const Segment& seg) {
    const size_t index = c.segments.size();
    c.segments.push_back(seg);
    const int s = c.end_of(seg), r = 1 - s;
    EndTrack& me = flow.end[s];
    EndTrack& peer = flow.end[r];
    c.notes.push_back(analyze(seg, me, peer, c));

    const bool syn = seg.flags & SYN, fin = seg.flags & FIN, rst = seg.flags & RST, ack = seg.flags & ACK;
    const bool first_fin = fin && !me.fin_seq;
    // Bookkeeping of the sender's sequence space.
    if (syn && (!me.isn || *me.isn != seg.seq)) me.isn = seg.seq, me.syn_acked = false;
    const uint32_t end = seg.seq + seg.len + (syn ? 1 : 0) + (fin ? 1 : 0);
    if (!rst && (!me.seq_known || before(me.next_seq, end))) me.next_seq = end, me.seq_known = true;
    if (fin && !me.fin_seq) me.fin_seq = seg.seq + seg.len;
    if (ack && !rst) me.has_ack = true, me.last_ack = seg.ack, me.last_window = seg.window;

    auto set = [&](int e, TcpState to, std::string why = "") {
        if (c.state[e] == to) return;
        c.changes.push_back({index, e, c.state[e], to, std::move(why)});
        c.state[e] = to;
    };

    if (rst) {
        // The sender had no connection (a segment for no socket) or aborted it; the receiver's is
        // gone (RFC 9293 3.10.7; Linux's TIME_WAIT also goes, as rfc1337 = 0 lets it).
        set(s, TcpState::CLOSED);
        set(r, TcpState::CLOSED);
        return;
    }
    if (syn && !ack) {
        if (c.state[s] == TcpState::CLOSED) set(s, TcpState::SYN_SENT);
        // Simultaneous open: a SYN reaches an end that sent its own.
        if (c.state[r] == TcpState::SYN_SENT && peer.isn) set(r, TcpState::SYN_RECV);
        return;
    }
    if (syn) {  // SYN-ACK
        if (c.state[s] == TcpState::CLOSED || c.state[s] == TcpState::SYN_SENT) set(s, TcpState::SYN_RECV);
        if ((c.state[r] == TcpState::SYN_SENT || c.state[r] == TcpState::SYN_RECV) && peer.isn &&
            seg.ack == *peer.isn + 1) {
            peer.syn_acked = true;
            set(r, TcpState::ESTABLISHED);
        }
        return;
    }
    // The sender's FIN changes its own state when it is sent.
    if (first_fin) {
        switch (c.state[s]) {
            case TcpState::ESTABLISHED:
            case TcpState::SYN_RECV: set(s, TcpState::FIN_WAIT1); break;
            case TcpState::CLOSE_WAIT:
                if (peer.fin_seq && (!ack || before(seg.ack, *peer.fin_seq + 1))) {
                    // Its FIN does not ack the peer's FIN, so it left before that FIN arrived: the
                    // capture saw the peer's FIN first only because it is nearer the peer.
                    const auto passive = std::find_if(c.changes.rbegin(), c.changes.rend(), [&](const StateChange& ch) {
                        return ch.end == s && ch.to == TcpState::CLOSE_WAIT;
                    });
                    if (passive != c.changes.rend()) {
                        c.state[s] = passive->from;
                        c.changes.erase(std::next(passive).base());
                    }
                    set(s, TcpState::FIN_WAIT1, "its FIN acks none of the peer's: both FINs were in flight");
                    set(s, TcpState::CLOSING, "the peer's FIN arrives after its own FIN left");
                } else {
                    set(s, TcpState::LAST_ACK);
                }
                break;
            default: break;
        }
    }
    // The receiver: the ACK first, then the FIN (RFC 9293 3.10.7.4, steps five and eight).
    if (ack) {
        if (peer.isn && !peer.syn_acked && before(*peer.isn, seg.ack)) {
            peer.syn_acked = true;
            if (c.state[r] == TcpState::SYN_RECV) set(r, TcpState::ESTABLISHED);
        }
        if (peer.fin_seq && !peer.fin_acked && !before(seg.ack, *peer.fin_seq + 1)) {
            peer.fin_acked = true;
            switch (c.state[r]) {
                case TcpState::FIN_WAIT1: set(r, TcpState::FIN_WAIT2); break;
                case TcpState::CLOSING: set(r, TcpState::TIME_WAIT); break;
                case TcpState::LAST_ACK: set(r, TcpState::CLOSED); break;
                default: break;
            }
        }
    }
    if (first_fin) {
        switch (c.state[r]) {
            case TcpState::ESTABLISHED:
            case TcpState::SYN_RECV: set(r, TcpState::CLOSE_WAIT); break;
            case TcpState::FIN_WAIT1: set(r, TcpState::CLOSING); break;
            case TcpState::FIN_WAIT2: set(r, TcpState::TIME_WAIT); break;
            default: break;
        }
    }
}

ConnectionTracker::ConnectionTracker() : impl_(std::make_unique<Impl>()) {}
ConnectionTracker::~ConnectionTracker() = default;

void ConnectionTracker::add(const Segment& segment) { impl_->add(segment); }

std::vector<InferredConnection> ConnectionTracker::finish() {
    std::vector<InferredConnection> out = std::move(impl_->connections);
    impl_ = std::make_unique<Impl>();
    return out;
}

std::vector<InferredConnection> infer_connections(const std::vector<Segment>& segments) {
    ConnectionTracker tracker;
    for (const Segment& s : segments) tracker.add(s);
    return tracker.finish();
}

}  // namespace socklab
