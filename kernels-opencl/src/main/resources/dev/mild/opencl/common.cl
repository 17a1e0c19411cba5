/*
 * Helpers shared by the loss kernels (see row.cl for the math and kernels.cl for the launch layout).
 *
 * Everything is float32: consumer GPUs run float64 at 1/32 to 1/64 of the float32 rate, so sums that need
 * more than float32 (row sums of exps, the row loss, the batch loss) are compensated float pairs
 * (hi, lo) instead. Built without -cl-fast-relaxed-math, so the compiler may not reassociate them away.
 * Helpers are plain functions, not "inline": C99 inline semantics can leave no definition to link against.
 */

/* acc + x as a compensated pair: TwoSum of the leading parts, the rounding error kept in lo. */
float2 csum_add(const float2 acc, const float x)
{
    const float s = acc.x + x;
    const float bp = s - acc.x;
    const float err = (acc.x - (s - bp)) + (x - bp);
    return (float2)(s, acc.y + err);
}

/* a + b for two compensated pairs. */
float2 csum_merge(const float2 a, const float2 b)
{
    const float2 s = csum_add((float2)(a.x, a.y + b.y), b.x);
    return s;
}

float csum_value(const float2 acc)
{
    return acc.x + acc.y;
}

/* The rounding error of s = a + b (TwoSum): a + b = s + two_sum_err(a, b, s) exactly. */
float two_sum_err(const float a, const float b, const float s)
{
    const float bp = s - a;
    return (a - (s - bp)) + (b - bp);
}

/*
 * MATH.md's Phi(S) from log S = logS + logSErr (logSErr a small correction): log S when nu = 1, else
 * expm1(q log S) / q with q = 1 - nu, exact near S = 1. q comes from the host, rounded once from the double
 * 1 - nu: 1.0f - (float)nu took nu's rounding (a relative 4.7e-5 of q at nu = 1.001) into q log S, and the loss
 * was 7.8e-5 off where log S is in the thousands. With t = q log S split as hi + lo,
 * (e^hi (1 + lo) - 1) / q = (expm1(hi) + e^hi lo) / q: q log S rounded to one float32 kept up to half an ulp
 * of values up to 69, 3.8e-6 of Phi.
 */
float phi_of_log(const float logS, const float logSErr, const float q)
{
    if (q == 0.0f) {
        return logS + logSErr;
    }
    const float hi = q * logS;
    const float lo = fma(q, logS, -hi) + q * logSErr;
    return (expm1(hi) + exp(hi) * lo) / q;
}

/*
 * The loss configuration in two small device buffers (uploaded only when the configuration changes):
 *   cfgI = [groupStart[0..G] | members[0..p-1] | groupOf[0..p-1]]   experts grouped by distinct margin,
 *          and each expert's group (for loss_wide, whose work-items take experts rather than groups)
 *   cfgF = [groupA[0..G-1] | delta[0..p-1] | logA[0..G-1] | 1 - nu | aLo[0..G-1] | deltaLo[0..p-1]]
 *          logA = log(groupA), 1 - nu from double, aLo = 1/rho - groupA and deltaLo = delta - (float) delta
 *          (what rounding a and delta to float32 left, for the loss's exponent)
 */
#define CONFIG_PARAMS const uint groups, __global const int *cfgI, __global const float *cfgF, \
                      const float nu, const int logSumExp
#define CONFIG_ARGS groups, cfgI, cfgF, nu, logSumExp

/* One expert k's share of a row (see row.cl): its loss term w_k Phi(S_k), its coefficient c_k (the weight of
   e_j in the gradient; w_k itself when nu = 1, delta = 0) and own, what it takes from its own gradient entry
   before gradScale (0 for the top expert, whose share goes through topShare instead). */
typedef struct {
    float loss;
    float c;
    float own;
} MemberTerms;

/*
 * A margin group's gradient factors from its members' coefficients (row.cl): coef = sum_k c_k (times a / Z when
 * nu = 1, delta = 0), which multiplies e_j for every j but the top expert, and topShare, the top expert's whole
 * entry from this group, formed from cRest (the sum without the top expert) as row.cl says, or coef when the top
 * expert is not a member. Returns (coef, topShare).
 */
float2 group_coef(const float c, const float cRest, const float cTop, const int topIn, const float zRest,
                  const float a, const int logSumExp)
{
    if (logSumExp) {
        const float z = 1.0f + zRest;
        const float coef = a * c / z;
        return (float2)(coef, topIn ? a * (cRest - cTop * zRest) / z : coef);
    }
    return (float2)(c, topIn ? cRest - cTop * zRest : c);
}
