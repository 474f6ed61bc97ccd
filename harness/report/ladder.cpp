#include "report/ladder.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <utility>

#include "report/text.hpp"

namespace socklab {

using nlohmann::json;

// ---------------------------------------------------------------------------------------------
// Reading the report

namespace {

// Where a timeline entry points into one of the report's arrays, e.g. entry["packet"] is the
// index of its packet in report["packets"]; nullopt for a report written before entries had them.
std::optional<size_t> reference(const json& report, const json& entry, const char* key, const char* array) {
    if (!entry.is_object()) return std::nullopt;
    const auto it = entry.find(key);
    // A report built in memory holds signed integers; one read back from a file, unsigned ones.
    if (it == entry.end() || !it->is_number_integer() || it->get<long long>() < 0) return std::nullopt;
    const auto i = it->get<size_t>();
    if (i >= array_field(report, array).size()) return std::nullopt;
    return i;
}

const json* referenced(const json& report, const json& entry, const char* key, const char* array) {
    const auto i = reference(report, entry, key, array);
    return i ? &array_field(report, array)[*i] : nullptr;
}

// A connection is named by its client port, as in the timeline: the local port of a client
// socket, the remote port of a server socket, 0 for a listener (or a socket not yet bound).
int connection_port(const std::string& side, const json& socket) {
    if (side == "client") return static_cast<int>(number_field(socket, "sport"));
    if (side == "server") return static_cast<int>(number_field(socket, "dport"));
    return 0;
}

std::string with_port(const std::string& text, int port) {
    return port == 0 ? text : text + " :" + std::to_string(port);
}

// A timewait socket is what the kernel keeps of a connection after its full socket is gone:
// sock_diag shows it as TIME_WAIT, or as FIN_WAIT2 for an orphan waiting for the peer's FIN,
// with the timewait timer (3) running.
bool is_timewait_socket(const json& socket) {
    return text_field(socket, "state") == "TIME_WAIT" || number_field(socket, "timer") == 3;
}

std::string socket_state_label(const json& socket) {
    const std::string state = text_field(socket, "state", "?");
    return state != "TIME_WAIT" && is_timewait_socket(socket) ? state + " (timewait)" : state;
}

// ---------------------------------------------------------------------------------------------
// States: what the transitions say, corrected and completed by the snapshots

using ConnectionKey = std::pair<std::string, int>;  // side, client port

struct KnownState {
    std::string state;
    bool from_snapshot = false;  // only sock_diag can see it change or go (a timewait socket)
};

// When a full socket goes to CLOSE from FIN_WAIT1, FIN_WAIT2 or CLOSING, the kernel may hand the
// connection to a timewait socket, which the tracepoint does not see. The first checkpoint after
// the transition tells, unless the connection moved again in between. "" when it shows none.
std::string timewait_successor(const json& report, size_t transition_index, const std::string& side, int port,
                               double t) {
    const json& transitions = array_field(report, "transitions");
    for (const json& cp : array_field(report, "checkpoints")) {
        const double cp_t = number_field(cp, "t");
        if (cp_t < t) continue;
        for (size_t i = transition_index + 1; i < transitions.size(); ++i) {
            const json& later = transitions[i];
            if (number_field(later, "t") <= cp_t && text_field(later, "side") == side &&
                connection_port(side, later) == port)
                return "";
        }
        for (const json& s : array_field(object_field(cp, "sockets"), side.c_str()))
            if (connection_port(side, s) == port && is_timewait_socket(s)) return socket_state_label(s);
        return "";
    }
    return "";
}

bool may_become_timewait(const std::string& old_state) {
    return old_state == "FIN_WAIT1" || old_state == "FIN_WAIT2" || old_state == "CLOSING";
}

// A state entry from the tracepoint: rewritten when the connection became a timewait socket,
// and remembered as the connection's state.
void note_transition(const json& report, const json& entry, LadderRow& row, std::map<ConnectionKey, KnownState>& known) {
    const auto index = reference(report, entry, "transition", "transitions");
    if (!index) return;
    const json* transition = &array_field(report, "transitions")[*index];
    const int port = connection_port(row.side, *transition);
    const std::string old_state = text_field(*transition, "old");
    std::string new_state = text_field(*transition, "new");
    bool timewait = false;
    if (new_state == "CLOSE" && port != 0 && may_become_timewait(old_state)) {
        const std::string successor = timewait_successor(report, *index, row.side, port, row.t);
        if (!successor.empty()) {
            new_state = successor;
            timewait = true;
            row.text = with_port("[" + old_state + " -> " + new_state + "]", port);
        }
    }
    // A client socket has no port before its SYN goes out; its later transitions name it.
    if (port != 0 || row.side == "server") known[{row.side, port}] = {new_state, timewait};
}

LadderRow snapshot_row(double t, const std::string& side, int port, const std::string& from, const std::string& to,
                       const std::string& note) {
    LadderRow row;
    row.t = t;
    row.side = side;
    row.what = "snapshot";
    row.text = with_port("[" + (from.empty() ? to : from + " -> " + to) + "]", port) + " (" + note + ")";
    return row;
}

// The states a checkpoint's sock_diag dump shows that the transitions did not: timewait sockets
// appearing, changing (FIN_WAIT2 to TIME_WAIT) and expiring, or every state when not traced.
std::vector<LadderRow> snapshot_rows(const json& checkpoint, double t, bool traced,
                                     std::map<ConnectionKey, KnownState>& known) {
    std::vector<LadderRow> rows;
    for (const auto& [side, sockets] : object_field(checkpoint, "sockets").items()) {
        if (!sockets.is_array()) continue;
        std::set<int> present;
        for (const json& s : sockets) {
            const int port = connection_port(side, s);
            present.insert(port);
            const bool timewait = is_timewait_socket(s);
            const std::string state = socket_state_label(s);
            const auto it = known.find({side, port});
            const std::string before = it == known.end() ? "" : it->second.state;
            if ((timewait || !traced) && before != state) rows.push_back(snapshot_row(t, side, port, before, state, "snapshot"));
            known[{side, port}] = {state, timewait};
        }
        for (auto& [key, k] : known) {
            if (key.first != side || present.count(key.second) || k.state == "CLOSE") continue;
            if (!k.from_snapshot && traced) continue;  // the tracepoint showed this one close
            rows.push_back(snapshot_row(t, side, key.second, k.state, "CLOSE", "snapshot: gone"));
            k = {"CLOSE", false};
        }
    }
    return rows;
}

// One timeline entry as a row, with what its picture needs from the entry it points at.
LadderRow entry_row(const json& report, const json& entry) {
    LadderRow row;
    row.t = number_field(entry, "t");
    row.side = text_field(entry, "side");
    row.what = text_field(entry, "kind");
    row.text = text_field(entry, "text");
    row.to_server = bool_field(entry, "to_server");
    row.inferred = bool_field(entry, "inferred");
    if (row.what == "packet") {
        const json* packet = referenced(report, entry, "packet", "packets");
        const std::string flags = packet ? text_field(*packet, "flags") : row.text.substr(0, row.text.find(' '));
        row.rtx = packet ? bool_field(*packet, "rtx") : row.text.ends_with("(rtx)");
        row.reset = flags.find('R') != std::string::npos;
    } else if (row.what == "call") {
        const json* event = referenced(report, entry, "event", "events");
        row.error = event ? number_field(object_field(*event, "body"), "ret") < 0
                          : row.text.find("= -") != std::string::npos;
    } else if (row.what == "exit") {
        row.error = row.text != "exit 0";
    }
    return row;
}

// Timeline entries, checkpoints and snapshot states, in the timeline's order.
std::vector<LadderRow> timeline_rows(const json& report) {
    const bool traced = bool_field(report, "traced", true);
    std::map<ConnectionKey, KnownState> known;
    std::vector<LadderRow> rows;
    for (const json& entry : array_field(report, "timeline")) {
        LadderRow row = entry_row(report, entry);
        if (row.what == "cut") {  // a capture's long middle, left out when its JSON was made
            row.kind = LadderRow::Kind::cut;
            row.left_out = static_cast<size_t>(number_field(entry, "left_out"));
            rows.push_back(row);
            continue;
        }
        if (row.what == "checkpoint") {
            row.kind = LadderRow::Kind::checkpoint;
            row.checkpoint = referenced(report, entry, "checkpoint", "checkpoints");
            rows.push_back(row);
            if (row.checkpoint)
                for (auto& snapshot : snapshot_rows(*row.checkpoint, row.t, traced, known)) rows.push_back(snapshot);
            continue;
        }
        if (row.what == "state") note_transition(report, entry, row, known);
        rows.push_back(row);
    }
    return rows;
}

// Each failed expectation after the rows of its time; one without a time after everything.
void add_failures(const json& report, std::vector<LadderRow>& rows) {
    for (const json& e : array_field(report, "expectations")) {
        if (bool_field(e, "passed") || bool_field(e, "skipped")) continue;
        LadderRow row;
        row.kind = LadderRow::Kind::failure;
        row.text = text_field(e, "text");
        row.error = true;
        row.expectation = &e;
        const auto at = e.find("at");
        const bool timed = at != e.end() && at->is_number();
        row.t = timed ? at->get<double>() : rows.empty() ? 0 : rows.back().t;
        const auto place = timed ? std::upper_bound(rows.begin(), rows.end(), row.t,
                                                    [](double t, const LadderRow& r) { return t < r.t; })
                                 : rows.end();
        rows.insert(place, row);
    }
}

// Past kHeadEntries + kTailEntries entries, the middle becomes one cut row; the failures in it
// are kept, right after the cut.
std::vector<LadderRow> cut_middle(const std::vector<LadderRow>& rows) {
    const auto entries = static_cast<size_t>(std::count_if(
        rows.begin(), rows.end(), [](const LadderRow& r) { return r.kind != LadderRow::Kind::failure; }));
    if (entries <= kHeadEntries + kTailEntries) return rows;
    std::vector<LadderRow> out, held;
    size_t index = 0;  // of the entry, failures not counted
    const size_t tail_start = entries - kTailEntries;
    for (const LadderRow& row : rows) {
        const bool failure = row.kind == LadderRow::Kind::failure;
        const bool in_middle = index >= kHeadEntries && index < tail_start;
        if (!failure && index == tail_start) {
            LadderRow cut;
            cut.kind = LadderRow::Kind::cut;
            cut.t = row.t;
            cut.left_out = tail_start - kHeadEntries;
            out.push_back(cut);
            out.insert(out.end(), held.begin(), held.end());
            held.clear();
        }
        if (in_middle && failure) held.push_back(row);
        else if (!in_middle) out.push_back(row);
        if (!failure) ++index;
    }
    return out;
}

// A gap row before a row that follows more than kSilentGap seconds of silence.
std::vector<LadderRow> with_gaps(const std::vector<LadderRow>& rows) {
    std::vector<LadderRow> out;
    std::optional<double> previous;
    for (const LadderRow& row : rows) {
        if (row.kind == LadderRow::Kind::cut) {
            out.push_back(row);
            previous.reset();  // the time across a cut is not silence
            continue;
        }
        if (previous && row.t - *previous > kSilentGap) {
            LadderRow gap;
            gap.kind = LadderRow::Kind::gap;
            gap.t = row.t;
            gap.gap_s = row.t - *previous;
            out.push_back(gap);
        }
        previous = row.t;
        out.push_back(row);
    }
    return out;
}

}  // namespace

std::vector<LadderRow> ladder_rows(const json& report) {
    std::vector<LadderRow> rows = timeline_rows(report);
    add_failures(report, rows);
    return with_gaps(cut_middle(rows));
}

SocketsSummary sockets_summary(const json& sockets) {
    SocketsSummary summary;
    std::map<std::string, int> counts;
    if (!sockets.is_array()) return summary;
    for (const json& s : sockets) {
        if (text_field(s, "state") == "LISTEN")
            summary.listeners.push_back("LISTEN :" + text_field(s, "sport") + " recv_q=" + text_field(s, "recv_q") +
                                        " send_q=" + text_field(s, "send_q"));
        else
            ++counts[socket_state_label(s)];
    }
    for (const auto& [state, n] : counts) summary.counts.push_back(std::to_string(n) + " " + state);
    return summary;
}

}  // namespace socklab
