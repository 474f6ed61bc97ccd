// Small helpers that several unit-test files use.
#pragma once
#include <cstddef>
#include <string>

// How many times `part` occurs in `text`, not overlapping.
inline size_t count_of(const std::string& text, const std::string& part) {
    size_t n = 0;
    for (size_t i = text.find(part); i != std::string::npos; i = text.find(part, i + part.size())) ++n;
    return n;
}
