// The ladder (sequence) diagram of a run, read from report.json alone: client on the left,
// server on the right, time downwards. The rows below are what every picture draws, the terminal
// timeline (report/terminal.hpp) and the SVG (report/svg.hpp) alike, so they show the same things
// in the same order; each picture only decides how a row looks.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace socklab {

struct LadderRow {
    enum class Kind {
        entry,       // one entry of the report's timeline, or a state seen in a snapshot
        gap,         // more than kSilentGap seconds with nothing happening
        cut,         // a long run's middle, left out
        checkpoint,  // a checkpoint, with what sock_diag saw on each side
        failure,     // a failed expectation, at the time of its evidence
    };
    Kind kind = Kind::entry;
    double t = 0;             // seconds since the run's start
    std::string side;         // entries: "client", "server", or "" for packets
    std::string what;         // entries: the timeline's kind (packet, state, call, ...), or "snapshot"
    std::string text;         // entries: as the timeline says it; checkpoint: its name; failure: the expectation
    bool to_server = false;   // packets: sent by the client
    bool rtx = false;         // packets: a retransmission
    bool reset = false;       // packets with RST
    bool error = false;       // a call that returned < 0, an exit that was not 0
    bool inferred = false;    // states: inferred from a capture (socklab ladder), not seen in a kernel
    double gap_s = 0;         // gap: its length
    size_t left_out = 0;      // cut: how many entries
    const nlohmann::json* checkpoint = nullptr;   // checkpoint: its entry in report["checkpoints"]
    const nlohmann::json* expectation = nullptr;  // failure: its entry in report["expectations"]
};

constexpr double kSilentGap = 0.5;    // seconds without an entry worth pointing out
constexpr size_t kHeadEntries = 300;  // a long run shows its first and last entries
constexpr size_t kTailEntries = 100;

// The rows of `report`, top to bottom:
// - its timeline; a transition to CLOSE that a later snapshot shows became a timewait socket is
//   written as the move to that socket's state (TIME_WAIT, or FIN_WAIT2 of an orphan), because
//   the tracepoint only sees the full socket go;
// - at each checkpoint, a "snapshot" entry for every state sock_diag shows that the transitions
//   do not (timewait sockets appearing, changing and expiring; every state when not traced);
// - a failed expectation at its time, or at the end when it has none;
// - a gap row before an entry that follows a silence of more than kSilentGap seconds;
// - past kHeadEntries + kTailEntries entries, the middle as one cut row (failures stay).
std::vector<LadderRow> ladder_rows(const nlohmann::json& report);

// What sock_diag saw on one side: each listener as "LISTEN :8080 recv_q=6 send_q=5" (recv_q is
// the accept queue's length, send_q its limit), and the other sockets counted per state, as
// "6 ESTABLISHED" or "1 FIN_WAIT2 (timewait)", states in alphabetical order.
struct SocketsSummary {
    std::vector<std::string> listeners, counts;
};
SocketsSummary sockets_summary(const nlohmann::json& sockets);

}  // namespace socklab
