/*
 * The three launch layouts of the loss. All end the same way: row losses are summed in local memory (a
 * compensated tree of fixed shape, see segment_sums and block_partial) into one partial per work-group,
 * which the host scales back and adds in group order in float64. The trees' shapes depend only on the
 * work-group size, so results are bit-identical from call to call.
 *
 * loss_tiled (GPUs, devices with dedicated local memory, rows narrow enough for a tile of many): one
 * work-group per block of R = get_local_size(0) rows, one work-item per row. The block's rows are contiguous
 * in the row-major inputs, so the work-group copies them into local memory with consecutive work-items reading
 * consecutive floats (coalesced), each work-item computes its row from local memory, and the gradient is
 * written back the same coalesced way. Rows sit at an odd stride in local memory so that work-items reading
 * "their" column hit distinct banks.
 *
 * loss_direct (CPUs, and any p too large for local memory): one work-item per row, reading its row in place.
 *
 * loss_wide (GPUs at wide rows): one work-group per row, see there.
 *
 * Offsets are element offsets into the buffers (the host API's views); rows beyond B in the last block only
 * take part in the barriers.
 */

/*
 * The arguments every layout takes after its sizes, in this order (the host sets them by position): the row-major
 * inputs and outputs with their element offsets, the gradient's scale, the configuration, and one float2 partial
 * per work-group.
 */
#define LOSS_PARAMS __global const float *scores, const ulong scoresOff, \
                    __global const float *weights, const ulong weightsOff, \
                    __global float *rowLoss, const ulong rowLossOff, const int writeRowLoss, \
                    __global float *grad, const ulong gradOff, const int writeGrad, \
                    const float gradScale, CONFIG_PARAMS, \
                    __global float2 *partials

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
                         LOSS_PARAMS,
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
                          LOSS_PARAMS,
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

/*
 * loss_wide: one work-group of R work-items (a power of two, at most p) per row, for rows too wide for a tile of
 * many (the host's rule is in OpenClLoss.layout). The row's scores and weights are read into local memory once,
 * coalesced; then the work is spread over the work-items in passes separated by barriers:
 *   1. m = max f and its first index top: a tree over each work-item's strided maximum (ties to the lower index);
 *   2. each margin group's zRest (row.cl), kept as a compensated pair in lgroup: the groups are dealt out in
 *      rounds of `slots` groups, seg = R / slots work-items a group summing strided columns, then a tree within
 *      the seg (so one margin, TDEF's, takes the whole work-group, and p distinct margins one work-item each);
 *   3. expert k's terms (MEMBER_FN, row.cl) on work-item k mod R: the row loss (a tree over the work-group),
 *      and, for the gradient, c_k (kept in lw[k], whose weight is no longer needed) and its own entry (lown);
 *   4. each group's coef and topShare (group_coef, common.cl) from its members' c_k, the same way as pass 2,
 *      kept in lgroup in place of zRest;
 *   5. g_j on work-item j mod R: its own entry plus e_j coef (topShare at the top expert) over the groups,
 *      recomputing e_j, written coalesced.
 * With one margin per expert that is 2 p^2 exps spread over R work-items, where loss_direct and loss_tiled
 * give one work-item p^2. Local memory: p floats each for scores, weights and own entries (own: one float
 * without a gradient), two per group and two per work-item.
 */
__kernel void loss_wide(const uint rows, const uint p,
                        LOSS_PARAMS,
                        __local float *lf, __local float *lw, __local float *lown, __local float2 *lgroup,
                        __local float2 *lsum)
{
    const uint lid = get_local_id(0);
    const uint r = get_local_size(0);
    const ulong row = get_group_id(0);
    const ulong at = row * p;
    __global const int *groupStart = cfgI;
    __global const int *members = cfgI + groups + 1;
    __global const int *groupOf = cfgI + groups + 1 + p;
    __global const float *groupA = cfgF;

    if (p == 1) {
        /* One expert: S = 1 exactly, loss and gradient 0 (as row.cl) */
        if (lid == 0) {
            if (writeRowLoss) {
                rowLoss[rowLossOff + row] = 0.0f;
            }
            if (writeGrad) {
                grad[gradOff + at] = 0.0f;
            }
            partials[row] = (float2)(0.0f, 0.0f);
        }
        return;
    }
    for (uint j = lid; j < p; j += r) {
        lf[j] = scores[scoresOff + at + j];
        lw[j] = weights[weightsOff + at + j];
    }
    barrier(CLK_LOCAL_MEM_FENCE);

    /* 1. The maximum and its first index (an index below 2^24 is exact as a float). */
    float m = -INFINITY;
    float top = (float)p;
    for (uint j = lid; j < p; j += r) {
        if (lf[j] > m) {
            m = lf[j];
            top = (float)j;
        }
    }
    lsum[lid] = (float2)(m, top);
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint h = r >> 1; h > 0; h >>= 1) {
        if (lid < h) {
            const float2 a = lsum[lid];
            const float2 b = lsum[lid + h];
            if (b.x > a.x || (b.x == a.x && b.y < a.y)) {
                lsum[lid] = b;
            }
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    m = lsum[0].x;
    const uint topK = (uint)lsum[0].y;
    barrier(CLK_LOCAL_MEM_FENCE); /* lsum is reused below */

    /* Passes 2 and 4 deal the groups out alike. */
    uint slots = 1;
    while (slots < groups && slots < r) {
        slots <<= 1;
    }
    const uint seg = r / slots;
    const uint slot = lid / seg;
    const uint part = lid & (seg - 1);

    /* 2. zRest of every group. */
    for (uint first = 0; first < groups; first += slots) {
        const uint grp = first + slot;
        float2 rest = (float2)(0.0f, 0.0f);
        if (grp < groups) {
            const float a = groupA[grp];
            for (uint j = part; j < p; j += seg) {
                if (j != topK) {
                    rest = csum_add(rest, exp(a * (lf[j] - m)));
                }
            }
        }
        segment_sums(rest, seg, lsum);
        if (grp < groups && part == 0) {
            lgroup[grp] = lsum[lid];
        }
    }
    barrier(CLK_LOCAL_MEM_FENCE);

    /* 3. Every expert's terms; the row loss. */
    float2 loss = (float2)(0.0f, 0.0f);
    for (uint k = lid; k < p; k += r) {
        const uint grp = (uint)groupOf[k];
        const float2 rest = lgroup[grp];
        const float logZ = logSumExp ? log1p(csum_value(rest)) : 0.0f;
        const MemberTerms mt = member_local(lf, lw, k, topK, m, grp, rest, logZ, p, writeGrad, CONFIG_ARGS);
        loss = csum_add(loss, mt.loss);
        if (writeGrad) {
            lw[k] = mt.c; /* w_k was read by this work-item only, just above */
            lown[k] = mt.own * gradScale;
        }
    }
    segment_sums(loss, r, lsum);
    if (lid == 0) {
        const float rowTotal = csum_value(lsum[0]);
        if (writeRowLoss) {
            rowLoss[rowLossOff + row] = rowTotal;
        }
        partials[row] = (float2)(rowTotal, 0.0f);
    }
    if (!writeGrad) {
        return;
    }

    /* 4. Each group's coef and topShare, from the sum of c_k over its members but the top expert. */
    const uint topGroup = (uint)groupOf[topK];
    const float cTop = lw[topK];
    for (uint first = 0; first < groups; first += slots) {
        const uint grp = first + slot;
        float2 cRest = (float2)(0.0f, 0.0f);
        if (grp < groups) {
            for (int t = groupStart[grp] + (int)part; t < groupStart[grp + 1]; t += (int)seg) {
                const uint k = (uint)members[t];
                if (k != topK) {
                    cRest = csum_add(cRest, lw[k]);
                }
            }
        }
        segment_sums(cRest, seg, lsum);
        if (grp < groups && part == 0) {
            const int topIn = grp == topGroup;
            const float2 sum = lsum[lid];
            const float c = topIn ? csum_value(csum_add(sum, cTop)) : csum_value(sum);
            lgroup[grp] = group_coef(c, csum_value(sum), cTop, topIn, csum_value(lgroup[grp]), groupA[grp],
                                     logSumExp) * gradScale;
        }
    }
    barrier(CLK_LOCAL_MEM_FENCE);

    /* 5. The gradient. */
    for (uint j = lid; j < p; j += r) {
        float g = -lown[j];
        for (uint grp = 0; grp < groups; grp++) {
            const float2 cs = lgroup[grp];
            g += j == topK ? cs.y : exp(groupA[grp] * (lf[j] - m)) * cs.x;
        }
        grad[gradOff + at + j] = g;
    }
}
