#pragma once
// The queries of one kv head's group in a [count, heads, dim] block (the g = heads / kv_heads
// query heads that read that kv head, for each of the `count` tokens), gathered contiguous as
// count·g rows so the batched kernels (attention/: tensor_decode and matrix_decode of `count`
// queries) serve the whole group with one pass over the kv head's rows; outputs are
// scattered back. 2·count·g·dim floats of counted scratch. For count = 1 the group's rows are
// contiguous in the block already: use first_row and skip the copy.
#include <algorithm>
#include <cstddef>

#include "caches/cache.hpp"
#include "framework/memory.hpp"

namespace trikv {

struct HeadQueries {
    HeadQueries(std::size_t count, std::size_t kv_head, const CacheShape& shape, MemoryMeter& meter)
        : count(count), kv_head(kv_head), shape(shape), in(rows() * shape.dim, meter), out(rows() * shape.dim, meter) {}

    // Queries in the block: count tokens × the group's g heads.
    std::size_t rows() const { return count * shape.group_size(); }
    // Offset in a [heads, dim] row of the group's first query head.
    static std::size_t first_row(std::size_t kv_head, const CacheShape& shape) {
        return kv_head * shape.group_size() * shape.dim;
    }

    void gather(const float* q) {
        const std::size_t group = shape.group_size() * shape.dim;
        for (std::size_t r = 0; r < count; ++r)
            std::copy_n(q + r * shape.query_width() + first_row(kv_head, shape), group, in.data() + r * group);
    }
    void scatter(float* to) const {
        const std::size_t group = shape.group_size() * shape.dim;
        for (std::size_t r = 0; r < count; ++r)
            std::copy_n(out.data() + r * group, group, to + r * shape.query_width() + first_row(kv_head, shape));
    }

    std::size_t count, kv_head;
    const CacheShape& shape;
    Buffer<float> in, out;
};

}  // namespace trikv
