/*
 * One row of the loss family, included twice by OpenClLoss: once with ROW_SPACE = __local (rows staged in
 * local memory by loss_tiled and loss_wide) and once with ROW_SPACE = __global (loss_direct); ROW_FN and
 * MEMBER_FN name the two copies. loss_wide spreads one row over a work-group and calls MEMBER_FN and
 * group_coef (common.cl) itself. The same algorithm as the
 * scalar CPU kernel (dev.mild.loss.ScalarKernel), per distinct margin a (one softmax each):
 *
 *   m = max_j f_j (first index top),  e_j = exp(a (f_j - m)),  zRest = sum_{j != top} e_j,  Z = 1 + zRest
 *   others_k = sum_{k' != k} exp(a (f_k' - m)) = (k == top) ? zRest : Z - e_k
 *   log S_k  = softplus(delta_k + a (m - f_k) + log others_k)
 *   loss    += w_k Phi(S_k)
 *   g_j     += e_j * sum_{k in group} w_k a exp(delta_k + a (m - f_k) - nu log S_k)
 *              - [j in group] a w_j S_j^(-nu) (S_j - 1 + exp(delta_j))
 *
 * and for nu = 1, delta = 0: log S_k = a (m - f_k) + log Z, g_j += e_j a sum(w) / Z - a w_j. The top expert
 * (e_top = 1) takes its share as one term: its softmax part and its own part are both about a w_top and
 * differ by a w_top S^-nu (S - 1), far smaller when the winner dominates, which a float32 subtraction would
 * lose entirely. So it gets sum_{k != top} c_k - a w_top S_top^-nu e^delta_top zRest (S_top - 1 =
 * e^delta zRest exactly), and a (sum_{k != top} w_k - w_top zRest) / Z when nu = 1, delta = 0. The gradient is
 * scaled by gradScale (1/B: the gradient of the mean). With one margin and nu = 1, delta = 0 (TDEF, CE, the
 * realizable log loss) e_j waits in g_j until sum(w) / Z is known; otherwise it is computed again for the
 * gradient rather than kept, since a private array of p floats would spill on a GPU.
 */
/*
 * Expert k's terms (MemberTerms, common.cl) in the softmax of its margin group grp, given the row's maximum m
 * at index top, rest = zRest as a compensated pair and logZ = log1p(zRest) (used when nu = 1, delta = 0).
 */
MemberTerms MEMBER_FN(ROW_SPACE const float *f, ROW_SPACE const float *w, const uint k, const uint top,
                      const float m, const uint grp, const float2 rest, const float logZ, const uint p,
                      const int doGrad, CONFIG_PARAMS)
{
    __global const float *groupA = cfgF;
    __global const float *delta = cfgF + groups;
    __global const float *logA = cfgF + groups + p;
    const float q = cfgF[2 * groups + p]; /* 1 - nu, rounded once from double */
    __global const float *aLo = cfgF + 2 * groups + p + 1;      /* 1/rho - a */
    __global const float *deltaLo = cfgF + 3 * groups + p + 1;  /* delta - (float) delta */
    const float a = groupA[grp];
    const float wk = w[k];
    MemberTerms t = {0.0f, 0.0f, 0.0f};
    if (logSumExp) {
        t.loss = wk * (a * (m - f[k]) + logZ);
        t.c = wk;
        t.own = k == top ? 0.0f : a * wk;
        return t;
    }
    const float zRest = csum_value(rest);
    /* others >= 1 when k != top (it holds e_top = 1), so Z - e_k loses nothing that matters. */
    const float others = k == top ? zRest : 1.0f + ((rest.x - exp(a * (f[k] - m))) + rest.y);
    /* s = delta + x + log others with the float32 roundings of a, delta, m - f, a (m - f) and the
       sums kept apart in sErr: formed plainly they left up to 2 ulp of s ~ 69, which
       Phi ~ e^((1-nu) log S) turned into 1.1e-5 of the loss near the score spread's limit. */
    const float d = m - f[k];
    const float dErr = two_sum_err(m, -f[k], d);
    const float x = a * d;
    const float xErr = fma(a, d, -x) + fma(a, dErr, aLo[grp] * d);
    const float u = delta[k] + x;
    const float uErr = two_sum_err(delta[k], x, u) + (xErr + deltaLo[k]);
    const float lo = log(others);
    const float s = u + lo;
    /* others = 0 (the top expert when every other exp underflowed): s = -inf, S = 1, no correction */
    const float sErr = isinf(lo) ? 0.0f : two_sum_err(u, lo, s) + uErr;
    const float tail = exp(-fabs(s));
    const float sp = log1p(tail);
    const float logS = fmax(s, 0.0f) + sp; /* softplus(s) */
    /* log S = logS + logSErr to first order: d softplus(s)/ds = sigmoid(s) */
    const float logSErr = sErr * (s > 0.0f ? 1.0f : tail) / (1.0f + tail);
    t.loss = wk * phi_of_log(logS, logSErr, q);
    if (doGrad) {
        /* u - nu log S, written so that two large terms never cancel in float32 (scores of 1e4
           with rho of 1e-3 make u ~ 1e7, where one ulp is 1). */
        const float ex = s > 0.0f ? q * u - nu * (lo + sp) : u - nu * sp;
        /* aEx = a exp(delta + x) S^-nu, and aEx others = a (S - 1) S^-nu. exp(ex) alone fell below
           float32's normal range (ex < -87) where a times it did not (a up to 1e30): rho of 3e-27
           with nu = 10 gave a gradient of 4e-33 for 1.4e-27. There log a goes into the exponent. */
        const float aEx = ex > -80.0f ? a * exp(ex) : exp(ex + logA[grp]);
        t.c = wk * aEx;
        /* a S^-nu (S - 1 + e^delta) = aEx (others + e^-x): no 1 - 1/S, which lost the whole term
           when S - 1 is below float32's resolution (a negative delta), and no e^delta S^-nu
           apart, which fell below float32's range (delta = 66, nu = 2: S^-nu ~ e^-132) while
           its product did not (the gradient was 18 times too large) */
        t.own = k == top ? 0.0f : wk * (aEx * (others + exp(-x)));
    }
    return t;
}

float ROW_FN(ROW_SPACE const float *f, ROW_SPACE const float *w, ROW_SPACE float *g,
             const uint p, const int doGrad, const float gradScale, CONFIG_PARAMS)
{
    if (p == 1) {
        /* One expert: S = 1 exactly, so Phi(S) = 0 and the gradient is 0 (no rounding residue). */
        if (doGrad) {
            g[0] = 0.0f;
        }
        return 0.0f;
    }
    __global const int *groupStart = cfgI;
    __global const int *members = cfgI + groups + 1;
    __global const float *groupA = cfgF;

    float m = f[0];
    uint top = 0;
    for (uint j = 1; j < p; j++) {
        const float v = f[j];
        if (v > m) {
            m = v;
            top = j;
        }
    }
    /* One softmax, logsumexp: g_j holds e_j until the common factor is known (no second exp per entry). */
    const int stash = doGrad && logSumExp && groups == 1;
    if (doGrad && !stash) {
        for (uint j = 0; j < p; j++) {
            g[j] = 0.0f;
        }
    }
    float2 loss = (float2)(0.0f, 0.0f);
    for (uint grp = 0; grp < groups; grp++) {
        const float a = groupA[grp];
        /* zRest apart from the leading 1 keeps log S exact when the winner dominates. */
        float2 rest = (float2)(0.0f, 0.0f);
        for (uint j = 0; j < p; j++) {
            const float e = exp(a * (f[j] - m));
            if (stash) {
                g[j] = e;
            }
            if (j != top) {
                rest = csum_add(rest, e);
            }
        }
        const float zRest = csum_value(rest);
        const float logZ = logSumExp ? log1p(zRest) : 0.0f;
        float2 c = (float2)(0.0f, 0.0f);
        float2 cRest = (float2)(0.0f, 0.0f);
        float cTop = 0.0f;
        int topIn = 0;
        for (int t = groupStart[grp]; t < groupStart[grp + 1]; t++) {
            const uint k = (uint)members[t];
            const MemberTerms mt = MEMBER_FN(f, w, k, top, m, grp, rest, logZ, p, doGrad, CONFIG_ARGS);
            loss = csum_add(loss, mt.loss);
            c = csum_add(c, mt.c);
            if (k == top) {
                topIn = 1;
                cTop = mt.c;
            } else {
                cRest = csum_add(cRest, mt.c);
                if (doGrad && !stash) {
                    g[k] -= mt.own * gradScale;
                }
            }
        }
        if (!doGrad) {
            continue;
        }
        const float2 coef = group_coef(csum_value(c), csum_value(cRest), cTop, topIn, zRest, a, logSumExp);
        const float cg = coef.x * gradScale;
        if (stash) {
            /* The single group holds every expert: g_j = e_j a sum(w) / Z - a w_j, scaled. */
            for (uint j = 0; j < p; j++) {
                g[j] = g[j] * cg - a * w[j] * gradScale;
            }
            g[top] = coef.y * gradScale;
        } else {
            for (uint j = 0; j < p; j++) {
                if (j != top) {
                    g[j] += exp(a * (f[j] - m)) * cg;
                }
            }
            g[top] += coef.y * gradScale;
        }
    }
    return csum_value(loss);
}
