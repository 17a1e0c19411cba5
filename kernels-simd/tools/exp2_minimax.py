#!/usr/bin/env python3
"""Coefficients of VectorMath.exp2: 2^r ~ 1 + r q(r) on [-1/2, 1/2], minimizing the maximum RELATIVE error.

Lawson's iteration (iteratively reweighted least squares, which converges to the minimax fit) on a Chebyshev
grid, in float64 with numpy. The leading coefficient is fixed at 1 so that 2^0 = 1 exactly (the row maximum's
term). Prints the coefficients (as float32, as the kernel stores them) and the fit's error before rounding.
Degree 6 gives 2.0e-9; degree 5 gives 9.1e-8 (after float rounding, in the vector code: 1.7e-7 against 7.9e-8
for degree 6). Degree 5 ran 5-8% more exps per second in a development loop; degree 6 was kept for accuracy
equal to the scalar kernel's (float)Math.exp.
Run: python3 kernels-simd/tools/exp2_minimax.py [degree]
"""
import sys
import numpy as np

def lawson(degree, iterations=3000, points=20001):
    x = np.cos(np.linspace(0, np.pi, points)) / 2
    f = np.exp2(x)
    basis = np.stack([x ** i for i in range(1, degree + 1)], 1) / f[:, None]
    target = (f - 1) / f
    w = np.full(points, 1.0 / points)
    for _ in range(iterations):
        sw = np.sqrt(w)
        c, *_ = np.linalg.lstsq(basis * sw[:, None], target * sw, rcond=None)
        e = np.abs(basis @ c - target)
        w = w * e
        w /= w.sum()
    return c, np.max(np.abs(basis @ c - target))

if __name__ == "__main__":
    degree = int(sys.argv[1]) if len(sys.argv) > 1 else 6
    c, err = lawson(degree)
    for i, ci in enumerate(c, 1):
        print(f"E{i} = {float(np.float32(ci))!r}f")
    print(f"max relative error of the fit: {err:.3g}")
