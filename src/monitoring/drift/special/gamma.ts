/**
 * Log-gamma and the regularised upper incomplete gamma function, following SciPy's Cephes port
 * (xsf, include/xsf/cephes/igam.h and lanczos.h): the same Lanczos approximation (N=13,
 * g=6.0246...), the same `igam_fac` prefactor and the same choice between the power series and
 * the continued fraction. SciPy additionally switches to Temme's uniform asymptotic expansion
 * for a > 20 with x near a; there we keep the series/continued fraction, which converge to the
 * same value (checked against SciPy to 1e-12 relative in the fixtures).
 */

const LANCZOS_G = 6.02468004077673;
const EXPG_SCALED_NUM = [
  0.006061842346248907, 0.5098416655656676, 19.519927882476175, 449.9445569063168, 6955.999602515376, 75999.29304014542,
  601859.6171681099, 3481712.154980646, 14605578.087685067, 43338889.32467614, 86363131.2881386, 103794043.11634454,
  56906521.913471565,
];
const EXPG_SCALED_DENOM = [
  1, 66, 1925, 32670, 357423, 2637558, 13339535, 45995730, 105258076, 150917976, 120543840, 39916800, 0,
];
const MACHEP = 1.1102230246251565e-16;
const MAXLOG = 709.782712893384;
const BIG = 4503599627370496;
const BIGINV = 2.220446049250313e-16;
const MAXITER = 10_000;

/** Cephes `ratevl` for two degree-12 polynomials (coefficients from the highest power). */
function ratevl(x: number, num: readonly number[], denom: readonly number[]): number {
  const last = num.length - 1;
  let n = 0;
  let d = 0;
  if (Math.abs(x) > 1) {
    const y = 1 / x;
    for (let i = last; i >= 0; i--) n = n * y + (num[i] ?? 0);
    for (let i = last; i >= 0; i--) d = d * y + (denom[i] ?? 0);
  } else {
    for (let i = 0; i <= last; i++) n = n * x + (num[i] ?? 0);
    for (let i = 0; i <= last; i++) d = d * x + (denom[i] ?? 0);
  }
  return n / d;
}

function lanczosSumExpgScaled(x: number): number {
  return ratevl(x, EXPG_SCALED_NUM, EXPG_SCALED_DENOM);
}

/** ln Γ(x) for x > 0: Γ(x) = L(x)·(x+g−½)^(x−½)·e^−(x−½) with L the scaled Lanczos sum. */
export function logGamma(x: number): number {
  if (!(x > 0)) return x === 0 ? Number.POSITIVE_INFINITY : Number.NaN;
  if (x < 0.5) {
    // Γ(x) = Γ(x+1)/x keeps the Lanczos sum in its accurate range.
    return logGamma(x + 1) - Math.log(x);
  }
  return Math.log(lanczosSumExpgScaled(x)) + (x - 0.5) * (Math.log(x + LANCZOS_G - 0.5) - 1);
}

/** log(1+x) − x without cancellation for small x (SciPy `log1pmx`). */
function log1pmx(x: number): number {
  if (Math.abs(x) < 0.5) {
    let xfac = x;
    let result = 0;
    for (let n = 2; n < MAXITER; n++) {
      xfac *= -x;
      const term = xfac / n;
      result += term;
      if (Math.abs(term) < MACHEP * Math.abs(result)) break;
    }
    return result;
  }
  return Math.log1p(x) - x;
}

/** x^a e^−x / Γ(a), computed as SciPy's `igam_fac` does. */
function igamFac(a: number, x: number): number {
  if (Math.abs(a - x) > 0.4 * Math.abs(a)) {
    const ax = a * Math.log(x) - x - logGamma(a);
    if (ax < -MAXLOG) return 0;
    return Math.exp(ax);
  }
  const fac = a + LANCZOS_G - 0.5;
  let result = Math.sqrt(fac / Math.E) / lanczosSumExpgScaled(a);
  if (a < 200 && x < 200) {
    result *= Math.exp(a - x) * (x / fac) ** a;
  } else {
    const num = x - a - LANCZOS_G + 0.5;
    result *= Math.exp(a * log1pmx(num / fac) + (x * (0.5 - LANCZOS_G)) / fac);
  }
  return result;
}

function igamSeries(a: number, x: number): number {
  const ax = igamFac(a, x);
  if (ax === 0) return 0;
  let r = a;
  let c = 1;
  let answer = 1;
  for (let i = 0; i < MAXITER; i++) {
    r += 1;
    c *= x / r;
    answer += c;
    if (c <= MACHEP * answer) break;
  }
  return (answer * ax) / a;
}

function igamcContinuedFraction(a: number, x: number): number {
  const ax = igamFac(a, x);
  if (ax === 0) return 0;
  let y = 1 - a;
  let z = x + y + 1;
  let c = 0;
  let pkm2 = 1;
  let qkm2 = x;
  let pkm1 = x + 1;
  let qkm1 = z * x;
  let answer = pkm1 / qkm1;
  for (let i = 0; i < MAXITER; i++) {
    c += 1;
    y += 1;
    z += 2;
    const yc = y * c;
    const pk = pkm1 * z - pkm2 * yc;
    const qk = qkm1 * z - qkm2 * yc;
    let t = 1;
    if (qk !== 0) {
      const r = pk / qk;
      t = Math.abs((answer - r) / r);
      answer = r;
    }
    pkm2 = pkm1;
    pkm1 = pk;
    qkm2 = qkm1;
    qkm1 = qk;
    if (Math.abs(pk) > BIG) {
      pkm2 *= BIGINV;
      pkm1 *= BIGINV;
      qkm2 *= BIGINV;
      qkm1 *= BIGINV;
    }
    if (t <= MACHEP) break;
  }
  return answer * ax;
}

/** Q(a, x) for small x, from the series of γ(a, x) (SciPy `igamc_series`). */
function igamcSeries(a: number, x: number): number {
  let fac = 1;
  let sum = 0;
  for (let n = 1; n < MAXITER; n++) {
    fac *= -x / n;
    const term = fac / (a + n);
    sum += term;
    if (Math.abs(term) <= MACHEP * Math.abs(sum)) break;
  }
  const logx = Math.log(x);
  const term = -Math.expm1(a * logx - logGamma(1 + a));
  return term - Math.exp(a * logx - logGamma(a)) * sum;
}

/** The regularised upper incomplete gamma function Q(a, x) = Γ(a, x)/Γ(a) (`scipy.special.gammaincc`). */
export function gammaincc(a: number, x: number): number {
  if (Number.isNaN(a) || Number.isNaN(x) || x < 0 || a < 0) return Number.NaN;
  if (a === 0) return x > 0 ? 0 : Number.NaN;
  if (x === 0) return 1;
  if (!Number.isFinite(a)) return Number.isFinite(x) ? 1 : Number.NaN;
  if (!Number.isFinite(x)) return 0;
  if (x > 1.1) return x < a ? 1 - igamSeries(a, x) : igamcContinuedFraction(a, x);
  if (x <= 0.5) return -0.4 / Math.log(x) < a ? 1 - igamSeries(a, x) : igamcSeries(a, x);
  return x * 1.1 < a ? 1 - igamSeries(a, x) : igamcSeries(a, x);
}

/** Survival function of the chi-square distribution (`scipy.stats.chi2.sf`, i.e. `chdtrc`). */
export function chiSquareSf(statistic: number, degreesOfFreedom: number): number {
  if (degreesOfFreedom <= 0 || Number.isNaN(statistic)) return Number.NaN;
  if (statistic < 0) return 1;
  return gammaincc(degreesOfFreedom / 2, statistic / 2);
}
