// One connection of a capture (socklab ladder) as the JSON the pictures draw, in the shape of a
// run's report.json: a timeline of packets and of states, here inferred (harness/inference), so the
// terminal ladder, ladder.svg and the HTML page are drawn by the same code as a run's. The
// inferred states' entries carry "inferred": true, which the pictures draw in their own look.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "capture/capture.hpp"
#include "inference/connections.hpp"

namespace socklab {

// What a capture's pictures say about the file as a whole.
struct CaptureSource {
    std::string file;       // as named on the command line
    std::string link_type;  // libpcap's name, e.g. LINUX_SLL2
    CaptureFileInfo info;
};

// The caveats a capture cannot resolve, said once per picture.
extern const char* const kInferenceCaveat;

// The report of connection `c`, drawn with end `left` (0 or 1) on the left. Times count from the
// connection's first segment. report["capture"] holds the file, stream and notes (mid-connection,
// segments not captured, truncated); report["names"] the ends' titles ("client", "server").
nlohmann::json capture_report_json(const InferredConnection& c, const CaptureSource& source, int left);

// "198.18.0.1:40012" or "[2001:db8::1]:40012".
std::string endpoint_text(const Endpoint& e);

// One row per connection: stream, endpoints, packets, duration, final states, resets,
// retransmissions, notes. Also what render_capture_html puts in its table.
struct ConnectionRow {
    size_t stream = 0;
    std::string ends[2];
    size_t packets = 0;
    double duration_s = 0;
    std::string states[2];
    size_t resets = 0, retransmissions = 0;
    std::string notes;
};
ConnectionRow connection_row(const InferredConnection& c);
std::string summary_table_text(const std::vector<ConnectionRow>& rows);

}  // namespace socklab
