#pragma once
// One head's rows of a [count, heads, dim] block of queries, gathered contiguous for the
// batched kernels (attention/: tensor_decode and matrix_decode of `count` queries), and their outputs
// scattered back: 2·count·dim floats of counted scratch.
#include <algorithm>
#include <cstddef>

#include "caches/cache.hpp"
#include "framework/memory.hpp"

namespace trikv {

struct HeadQueries {
    HeadQueries(std::size_t count, std::size_t head, const CacheShape& shape, MemoryMeter& meter)
        : count(count), head(head), shape(shape), in(count * shape.dim, meter), out(count * shape.dim, meter) {}

    void gather(const float* q) {
        for (std::size_t r = 0; r < count; ++r)
            std::copy_n(q + (r * shape.heads + head) * shape.dim, shape.dim, in.data() + r * shape.dim);
    }
    void scatter(float* to) const {
        for (std::size_t r = 0; r < count; ++r)
            std::copy_n(out.data() + r * shape.dim, shape.dim, to + (r * shape.heads + head) * shape.dim);
    }

    std::size_t count, head;
    const CacheShape& shape;
    Buffer<float> in, out;
};

}  // namespace trikv
