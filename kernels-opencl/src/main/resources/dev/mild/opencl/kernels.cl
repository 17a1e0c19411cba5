/*
 * The two launch layouts of the loss. Both run one work-group per block of R = get_local_size(0) rows and
 * one work-item per row, and both end the same way: the work-group's row losses are summed in local memory
 * (a compensated tree, fixed shape, each loss divided by a power of two; see block_partial) into partials[group],
 * which the host scales back and adds in group order in float64.
 * The tree's shape depends only on R, so results are bit-identical from call to call.
 *
 * loss_tiled (GPUs, devices with dedicated local memory): the block's rows are contiguous in the row-major
 * inputs, so the work-group copies them into local memory with consecutive work-items reading consecutive
 * floats (coalesced), each work-item computes its row from local memory, and the gradient is written back
 * the same coalesced way. Rows sit at an odd stride in local memory so that work-items reading "their"
 * column hit distinct banks.
 *
 * loss_direct (CPUs, and any p too large for local memory): each work-item reads its row in place.
 *
 * Offsets are element offsets into the buffers (the host API's views); rows beyond B in the last block only
 * take part in the barriers.
 */

/*
 * Compensated tree sums of every work-item's v over aligned segments of seg work-items (a power of two; at or
 * above the work-group size: one segment), in a fixed shape: each segment's sum ends in lsum at its first
 * work-item, readable on return (after a barrier) until the next call.
 */
void segment_sums(const float2 v, const uint seg, __local float2 *lsum)
{
    const uint lid = get_local_id(0);
    const uint r = get_local_size(0);
    lsum[lid] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint h = seg >> 1; h > 0; h >>= 1) {
        if ((lid & (seg - 1)) < h && lid + h < r) {
            lsum[lid] = csum_merge(lsum[lid], lsum[lid + h]);
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
}

/*
 * Each row's loss enters the sum divided by span, the power of two at or above R (exact: only the exponent
 * changes), and the host multiplies the partial back: a sum of R finite losses then stays below float32's
 * largest value. The division is ldexp, which OpenCL requires to be correctly rounded; x / y on float may be
 * 2.5 ulp off (full profile, 3 on embedded) unless -cl-fp32-correctly-rounded-divide-sqrt is given, so a
 * GPU's division by a power of two is not promised to be exact. Unscaled, 33 row losses of 3e37 (weights of 1e6, margins of 1e-30) summed to infinity and the
 * compensated pair to NaN, while the CPU backends, which sum in float64, gave the mean 1.7e37.
 */
void block_partial(const float loss, __local float2 *lsum, __global float2 *partials)
{
    const uint lid = get_local_id(0);
    const uint r = get_local_size(0);
    uint span = 1;
    int shift = 0;
    while (span < r) {
        span <<= 1;
        shift++;
    }
    segment_sums((float2)(ldexp(loss, -shift), 0.0f), span, lsum);
    if (lid == 0) {
        partials[get_group_id(0)] = lsum[0];
    }
}

__kernel void loss_tiled(const uint rows, const uint p, const uint stride,
                         __global const float *scores, const ulong scoresOff,
                         __global const float *weights, const ulong weightsOff,
                         __global float *rowLoss, const ulong rowLossOff, const int writeRowLoss,
                         __global float *grad, const ulong gradOff, const int writeGrad,
                         const float gradScale, CONFIG_PARAMS,
                         __global float2 *partials,
                         __local float *ls, __local float *lw, __local float *lg, __local float2 *lsum)
{
    const uint lid = get_local_id(0);
    const uint r = get_local_size(0);
    const ulong first = (ulong)get_group_id(0) * r;
    const uint n = (uint)min((ulong)r, (ulong)rows - first);
    const uint count = n * p;
    const ulong base = first * p;

    for (uint e = lid; e < count; e += r) {
        const uint row = e / p;
        const uint col = e - row * p;
        ls[row * stride + col] = scores[scoresOff + base + e];
        lw[row * stride + col] = weights[weightsOff + base + e];
    }
    barrier(CLK_LOCAL_MEM_FENCE);

    float loss = 0.0f;
    if (lid < n) {
        /* lg is one float when there is no gradient to write (the host leaves the tile out): never touched. */
        loss = row_local(ls + lid * stride, lw + lid * stride, writeGrad ? lg + lid * stride : lg, p, writeGrad,
                         gradScale, CONFIG_ARGS);
        if (writeRowLoss) {
            rowLoss[rowLossOff + first + lid] = loss;
        }
    }
    /* Its first barrier also publishes lg to the whole work-group for the store below. */
    block_partial(loss, lsum, partials);

    if (writeGrad) {
        for (uint e = lid; e < count; e += r) {
            const uint row = e / p;
            grad[gradOff + base + e] = lg[row * stride + (e - row * p)];
        }
    }
}

__kernel void loss_direct(const uint rows, const uint p,
                          __global const float *scores, const ulong scoresOff,
                          __global const float *weights, const ulong weightsOff,
                          __global float *rowLoss, const ulong rowLossOff, const int writeRowLoss,
                          __global float *grad, const ulong gradOff, const int writeGrad,
                          const float gradScale, CONFIG_PARAMS,
                          __global float2 *partials,
                          __local float2 *lsum)
{
    const ulong row = get_global_id(0);
    float loss = 0.0f;
    if (row < rows) {
        const ulong at = row * p;
        loss = row_global(scores + scoresOff + at, weights + weightsOff + at, grad + gradOff + at, p, writeGrad,
                          gradScale, CONFIG_ARGS);
        if (writeRowLoss) {
            rowLoss[rowLossOff + row] = loss;
        }
    }
    block_partial(loss, lsum, partials);
}
