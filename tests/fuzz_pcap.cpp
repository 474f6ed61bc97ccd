// libFuzzer target: the pcap decoder. The first byte picks a link type for decode_frame; the whole
// input is also read as a pcap file (from memory), and as trace_pipe and /proc/net/netstat text.
// Nothing may crash, read out of bounds or throw anything but a runtime_error naming the file.
#include <pcap/pcap.h>

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "capture/capture.hpp"
#include "observation/counters.hpp"
#include "observation/tracefs.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const int linktypes[] = {DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_RAW, DLT_IPV4, DLT_IPV6};
    if (size > 0) socklab::decode_frame(data + 1, size - 1, linktypes[data[0] % 6], 0);
    try {
        socklab::read_pcap_memory(data, size);
    } catch (const std::runtime_error&) {
    }
    const std::string text(reinterpret_cast<const char*>(data), size);
    socklab::parse_trace_line(text);
    socklab::parse_counters(text);
    return 0;
}
