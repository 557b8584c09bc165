"""Independent reference for Newcombe's method 10 paired interval and its exact coverage.

Written from the paper's formulas (R. G. Newcombe, Statistics in Medicine 17 (1998) 2635-2650)
with the standard library only (no SciPy on the build machine), so src/stats/newcombe.ts is checked
against a second implementation, and its coverage is computed by exact enumeration of every 2x2
table rather than by simulation. Run: python3 scripts/newcombe_reference.py
"""
from math import sqrt, lgamma, exp, log
from statistics import NormalDist


def wilson(x, n, conf):
    z = NormalDist().inv_cdf(1 - (1 - conf) / 2)
    p = x / n
    den = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / den
    half = z * sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return (0.0 if x == 0 else centre - half, 1.0 if x == n else centre + half)


def newcombe10(a, b, c, d, conf=0.95, corrected=True):
    """Method 10; `corrected` uses Newcombe's phi* = max(ad - bc - n/2, 0)/sqrt(...) when ad > bc."""
    n = a + b + c + d
    p1, p2 = (a + b) / n, (a + c) / n
    l1, u1 = wilson(a + b, n, conf)
    l2, u2 = wilson(a + c, n, conf)
    den = (a + b) * (c + d) * (a + c) * (b + d)
    num = a * d - b * c
    if corrected and num > 0:
        num = max(num - n / 2, 0)
    phi = 0.0 if den == 0 else num / sqrt(den)
    t = p1 - p2
    dl = sqrt(max(0.0, (p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2))
    du = sqrt(max(0.0, (u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2) ** 2))
    return max(-1.0, t - dl), min(1.0, t + du)


def exact_coverage(n, probs, conf=0.95, corrected=True):
    """P(interval covers the true difference) summed over every table (a, b, c, d) of size n."""
    pa, pb, pc, pd = probs
    theta = pb - pc
    lf = [lgamma(k + 1) for k in range(n + 1)]
    total = 0.0
    for a in range(n + 1):
        for b in range(n + 1 - a):
            for c in range(n + 1 - a - b):
                d = n - a - b - c
                lp = lf[n] - lf[a] - lf[b] - lf[c] - lf[d]
                for k, p in ((a, pa), (b, pb), (c, pc), (d, pd)):
                    if k:
                        if p == 0:
                            lp = None
                            break
                        lp += k * log(p)
                if lp is None:
                    continue
                lo, hi = newcombe10(a, b, c, d, conf, corrected)
                if lo <= theta <= hi:
                    total += exp(lp)
    return total


def cells(p_a, p_b, discordance):
    """Cell probabilities for marginal accuracies p_a, p_b and a share of discordant rows."""
    # b - c = p_a - p_b, b + c = discordance
    b = (discordance + (p_a - p_b)) / 2
    c = (discordance - (p_a - p_b)) / 2
    a = p_a - b
    return (a, b, c, 1 - a - b - c)


if __name__ == "__main__":
    for t in [(130, 40, 15, 15), (60, 9, 7, 44), (3, 0, 0, 1), (28, 2, 0, 0), (45, 1, 3, 1)]:
        print("newcombe10", t, repr(newcombe10(*t)), "90%", repr(newcombe10(*t, conf=0.90)))
    for n in (30, 50):
        for pa, pb, disc in [(0.95, 0.97, 0.04), (0.95, 0.95, 0.06), (0.8, 0.85, 0.15), (0.5, 0.5, 0.3), (0.5, 0.5, 0.5)]:
            print("coverage", n, pa, pb, disc, "corrected", round(exact_coverage(n, cells(pa, pb, disc)), 4),
                  "uncorrected", round(exact_coverage(n, cells(pa, pb, disc), corrected=False), 4))
