// libFuzzer target: the pcap decoder and what socklab ladder does with a capture. The first byte
// picks a link type for decode_frame (and its second whether the frame counts as cut by a snaplen);
// the whole input is also read as a pcap or pcapng file (from memory), and its segments fed to the
// inference of states and drawn as ladder JSON and SVG; and the input is read as trace_pipe and
// /proc/net/netstat text. Nothing may crash, read out of bounds or throw anything but a
// runtime_error naming the file.
#include <pcap/pcap.h>

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "capture/capture.hpp"
#include "inference/connections.hpp"
#include "report/capture_report.hpp"
#include "report/svg.hpp"
#include "observation/counters.hpp"
#include "observation/tracefs.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const int linktypes[] = {DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_RAW,
                                    DLT_IPV4,   DLT_IPV6,      DLT_NULL,       DLT_LOOP};
    if (size > 1) socklab::decode_frame(data + 2, size - 2, linktypes[data[0] % 8], 0, data[1] & 1 ? size : 0);
    try {
        const auto segments = socklab::read_pcap_memory(data, size);
        // Sequence numbers, flags and orders no real connection has must still give states and a picture.
        const socklab::CaptureSource source{"(memory)", "fuzz", {}};
        for (const auto& c : socklab::infer_connections(segments))
            socklab::render_svg(socklab::capture_report_json(c, source, int(c.stream % 2)));
    } catch (const std::runtime_error&) {
    }
    const std::string text(reinterpret_cast<const char*>(data), size);
    socklab::parse_trace_line(text);
    socklab::parse_counters(text);
    return 0;
}
