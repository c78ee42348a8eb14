/**
 * The distribution of the two-sided one-sample Kolmogorov–Smirnov statistic D_n, as SciPy
 * computes it for `scipy.stats.kstwo.sf` (scipy/stats/_ksstats.py, Simard & L'Ecuyer 2011):
 * Ruben–Gambino closed forms at the ends, the Durbin matrix (Marsaglia–Tsang–Wang), Pomeranz's
 * recursion, the Pelz–Good expansion and 2·smirnov(n, x) for the upper tail. `ks_2samp` uses it
 * for its asymptotic p-value with n = round(n1·n2/(n1+n2)).
 *
 * `smirnovSf` (the one-sided D+_n tail, SciPy `smirnov`) is the Birnbaum–Tingey sum. SciPy sums
 * it in double-double arithmetic; we sum in log space with an exact n·x product, which keeps the
 * relative error near 1e-13 for the n this code is used with (checked in the fixtures).
 */

const E128 = 2 ** 128;
const EM128 = 2 ** -128;
const SQRT2PI = Math.sqrt(2 * Math.PI);
const LOG_2PI = Math.log(2 * Math.PI);
const MIN_LOG = -708;
const SQRT3 = Math.sqrt(3);
const PI_SQUARED = Math.PI ** 2;
const PI_FOUR = Math.PI ** 4;
const PI_SIX = Math.PI ** 6;
const STIRLING_COEFFS = [
  -0.029550653594771242, 0.00641025641025641, -0.0019175269175269176, 0.0008417508417508417, -0.0005952380952380953,
  0.0007936507936507937, -0.002777777777777778, 0.08333333333333333,
];
const EPSILON = Number.EPSILON;
const MINLOG = -708.3964185322641;

const clip = (p: number) => Math.min(1, Math.max(0, p));

function logNFactorialDivNPowN(n: number): number {
  const rn = 1 / n;
  const y = rn / n;
  let poly = 0;
  for (const c of STIRLING_COEFFS) poly = poly * y + c;
  return Math.log(n) / 2 - n + LOG_2PI / 2 + rn * poly;
}

/** Splits a double into two halves whose products are exact (Veltkamp). */
function split(a: number): [number, number] {
  const c = 134217729 * a;
  const hi = c - (c - a);
  return [hi, a - hi];
}

/** a·b as an unevaluated sum hi + lo (Dekker's exact product). */
function twoProduct(a: number, b: number): [number, number] {
  const p = a * b;
  const [ah, al] = split(a);
  const [bh, bl] = split(b);
  const error = ah * bh - p + ah * bl + al * bh + al * bl;
  return [p, error];
}

/** Survival function of the one-sided statistic D+_n: P(D+_n > x) (SciPy `smirnov`). */
export function smirnovSf(n: number, x: number): number {
  if (!(n > 0 && x >= 0 && x <= 1)) return Number.NaN;
  if (n === 1) return 1 - x;
  if (x === 0) return 1;
  if (x === 1) return 0;
  const [nxHi, nxLo] = twoProduct(n, x);
  let nxFloor = Math.floor(nxHi);
  // Fractional part of n·x, from the exact product.
  let alpha = nxHi - nxFloor + nxLo;
  if (alpha < 0) {
    nxFloor -= 1;
    alpha += 1;
  }
  if (alpha >= 1) {
    nxFloor += 1;
    alpha -= 1;
  }
  if (nxFloor === 0 || (nxFloor === 1 && alpha === 0)) {
    const cdf = x * (1 + x) ** (n - 1);
    return clip(1 - cdf);
  }
  if (-2 * n * x * x < MINLOG) return 0;
  if (nxFloor >= n - 1) return clip((1 - x) ** n);
  if (n > 1_000_000) {
    const logp = -((6 * n * x + 1) ** 2) / 18 / n;
    // Maximise precision for small p-values, as SciPy does.
    return clip(logp < -Math.LN2 ? Math.exp(logp) : 1 + Math.expm1(logp));
  }
  // Lower sum: sf = x · Σ_{v=0}^{n-⌊nx⌋-1} C(n,v) (1 − x − v/n)^(n−v) (x + v/n)^(v−1).
  const terms = n - nxFloor;
  let logBinomial = 0;
  let logBinomialCompensation = 0;
  let maxLog = Number.NEGATIVE_INFINITY;
  let scaledSum = 0;
  for (let v = 0; v < terms; v++) {
    // 1 − x − v/n = ((n − v) − n·x)/n and x + v/n = (n·x + v)/n, each from the exact n·x.
    // Logs of the two shares via log1p where they are near 1, so the large powers (n − v) and
    // (v − 1) do not amplify rounding of log(share·n) − log(n).
    const belowShare = (v + nxHi + nxLo) / n; // 1 − (1 − x − v/n)
    const aboveShare = (nxHi + v + nxLo) / n;
    const logBelow = Math.log1p(-belowShare);
    const logAbove = aboveShare < 0.5 ? Math.log(aboveShare) : Math.log1p((nxHi - (n - v) + nxLo) / n);
    const logTerm = logBinomial + (n - v) * logBelow + (v - 1) * logAbove;
    if (logTerm > maxLog) {
      scaledSum = scaledSum * Math.exp(maxLog - logTerm) + 1;
      maxLog = logTerm;
    } else {
      scaledSum += Math.exp(logTerm - maxLog);
    }
    // SciPy's early exit: the remaining terms cannot change the sum.
    if (v !== terms - 1 && logTerm + Math.log(4 * (terms - v)) < Math.log(EPSILON) + maxLog + Math.log(scaledSum)) {
      break;
    }
    // Kahan summation: log C(n, v) reaches ~n·ln 2, and half a million plain additions at that
    // magnitude would cost ~1e-8 relative accuracy.
    const step = Math.log((n - v) / (v + 1)) - logBinomialCompensation;
    const next = logBinomial + step;
    logBinomialCompensation = next - logBinomial - step;
    logBinomial = next;
  }
  return clip(x * Math.exp(maxLog) * scaledSum);
}

type Matrix = Float64Array[];

function matmul(a: Matrix, b: Matrix): Matrix {
  const m = a.length;
  const out: Matrix = [];
  for (let i = 0; i < m; i++) {
    const row = new Float64Array(m);
    const ai = a[i] as Float64Array;
    for (let k = 0; k < m; k++) {
      const aik = ai[k] as number;
      if (aik === 0) continue;
      const bk = b[k] as Float64Array;
      for (let j = 0; j < m; j++) row[j] = (row[j] as number) + aik * (bk[j] as number);
    }
    out.push(row);
  }
  return out;
}

/** P(D_n ≤ d) by the Durbin matrix (Marsaglia, Tsang & Wang 2003), as `_kolmogn_DMTW`. */
function kolmognDurbin(n: number, d: number): number {
  if (d >= 1) return 1;
  const nd = n * d;
  if (nd <= 0.5) return 0;
  const k = Math.ceil(nd);
  const h = k - nd;
  const m = 2 * k - 1;
  let H: Matrix = Array.from({ length: m }, () => new Float64Array(m));
  const v = new Float64Array(m);
  const w = new Float64Array(m);
  let fac = 1;
  for (let j = 1; j <= m; j++) {
    w[j - 1] = fac;
    fac /= j;
    v[j - 1] = (1 - h ** j) * fac;
  }
  const tt = Math.max(2 * h - 1, 0) ** m - 2 * h ** m;
  v[m - 1] = (1 + tt) * fac;
  for (let i = 1; i < m; i++) {
    for (let r = i - 1; r < m; r++) (H[r] as Float64Array)[i] = w[r - (i - 1)] as number;
  }
  for (let r = 0; r < m; r++) (H[r] as Float64Array)[0] = v[r] as number;
  for (let c = 0; c < m; c++) (H[m - 1] as Float64Array)[c] = v[m - 1 - c] as number;

  let power: Matrix = Array.from({ length: m }, (_, i) => {
    const row = new Float64Array(m);
    row[i] = 1;
    return row;
  });
  let nn = n;
  let exponent = 0;
  let hExponent = 0;
  while (nn > 0) {
    if (nn % 2) {
      power = matmul(power, H);
      exponent += hExponent;
    }
    H = matmul(H, H);
    hExponent *= 2;
    if (Math.abs((H[k - 1] as Float64Array)[k - 1] as number) > E128) {
      for (const row of H) for (let j = 0; j < m; j++) row[j] = (row[j] as number) / E128;
      hExponent += 128;
    }
    nn = Math.floor(nn / 2);
  }
  let p = (power[k - 1] as Float64Array)[k - 1] as number;
  for (let i = 1; i <= n; i++) {
    p = (i * p) / n;
    if (Math.abs(p) < EM128) {
      p *= E128;
      exponent -= 128;
    }
  }
  if (exponent !== 0) p *= 2 ** exponent;
  return clip(p);
}

function pomeranzBounds(i: number, n: number, ll: number, ceilf: number, roundf: number): [number, number] {
  let j1: number;
  let j2: number;
  if (i === 0) {
    j1 = -ll - ceilf - 1;
    j2 = ll + ceilf - 1;
  } else {
    const ip1div2 = Math.floor((i + 1) / 2);
    const ip1mod2 = (i + 1) % 2;
    if (ip1mod2 === 0) {
      if (ip1div2 === n + 1) {
        j1 = n - ll - ceilf - 1;
        j2 = n + ll + ceilf - 1;
      } else {
        j1 = ip1div2 - 1 - ll - roundf - 1;
        j2 = ip1div2 + ll - 1 + ceilf - 1;
      }
    } else {
      j1 = ip1div2 - 1 - ll - 1;
      j2 = ip1div2 + ll + roundf - 1;
    }
  }
  return [Math.max(j1 + 2, 0), Math.min(j2, n)];
}

/** P(D_n ≤ x) by Pomeranz's recursion (1974), as `_kolmogn_Pomeranz`. */
function kolmognPomeranz(n: number, x: number): number {
  const t = n * x;
  const ll = Math.floor(t);
  const f = t - ll;
  const g = Math.min(f, 1 - f);
  const ceilf = f > 0 ? 1 : 0;
  const roundf = f > 0.5 ? 1 : 0;
  const npwrs = 2 * (ll + 1);
  const gpower = new Float64Array(npwrs);
  const twogpower = new Float64Array(npwrs);
  const onem2gpower = new Float64Array(npwrs);
  gpower[0] = 1;
  twogpower[0] = 1;
  onem2gpower[0] = 1;
  let exponent = 0;
  const gOverN = g / n;
  const twoGOverN = (2 * g) / n;
  const oneMinusTwoGOverN = (1 - 2 * g) / n;
  for (let m = 1; m < npwrs; m++) {
    gpower[m] = ((gpower[m - 1] as number) * gOverN) / m;
    twogpower[m] = ((twogpower[m - 1] as number) * twoGOverN) / m;
    onem2gpower[m] = ((onem2gpower[m - 1] as number) * oneMinusTwoGOverN) / m;
  }
  let V0 = new Float64Array(npwrs);
  let V1 = new Float64Array(npwrs);
  V1[0] = 1;
  let V0s = 0;
  let V1s = 0;
  let [j1, j2] = pomeranzBounds(0, n, ll, ceilf, roundf);
  for (let i = 1; i < 2 * n + 2; i++) {
    const k1 = j1;
    [V0, V1] = [V1, V0];
    [V0s, V1s] = [V1s, V0s];
    V1.fill(0);
    [j1, j2] = pomeranzBounds(i, n, ll, ceilf, roundf);
    const powers = i === 1 || i === 2 * n + 1 ? gpower : i % 2 ? twogpower : onem2gpower;
    const ln2 = j2 - k1 + 1;
    if (ln2 > 0) {
      // np.convolve(V0[start:start+ln2], powers[:ln2]), truncated at the array ends as numpy slices are.
      const start = k1 - V0s;
      const aLength = Math.max(0, Math.min(ln2, npwrs - start));
      const bLength = Math.min(ln2, npwrs);
      const convStart = j1 - k1;
      const convLength = j2 - j1 + 1;
      for (let c = 0; c < convLength; c++) {
        const index = convStart + c;
        let sum = 0;
        const lo = Math.max(0, index - bLength + 1);
        const hi = Math.min(index, aLength - 1);
        for (let a = lo; a <= hi; a++) sum += (V0[start + a] as number) * (powers[index - a] as number);
        V1[c] = sum;
      }
      let max = Number.NEGATIVE_INFINITY;
      for (let c = 0; c < npwrs; c++) if ((V1[c] as number) > max) max = V1[c] as number;
      if (max > 0 && max < EM128) {
        for (let c = 0; c < npwrs; c++) V1[c] = (V1[c] as number) * E128;
        exponent -= 128;
      }
      V1s = V0s + j1 - k1;
    }
  }
  let answer = V1[n - V1s] as number;
  for (let m = 1; m <= n; m++) {
    if (Math.abs(answer) > E128) {
      answer *= EM128;
      exponent += 128;
    }
    answer *= m;
  }
  if (exponent !== 0) answer *= 2 ** exponent;
  return clip(answer);
}

/** P(D_n ≤ x) by the Pelz–Good asymptotic expansion, as `_kolmogn_PelzGood`. */
function kolmognPelzGood(n: number, x: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const z = Math.sqrt(n) * x;
  const zsquared = z ** 2;
  const zthree = z ** 3;
  const zfour = z ** 4;
  const zsix = z ** 6;
  const qlog = -PI_SQUARED / 8 / zsquared;
  if (qlog < MIN_LOG) return 0;
  let q = Math.exp(qlog);
  const k1a = -zsquared;
  const k1b = PI_SQUARED / 4;
  const k2a = 6 * zsix + 2 * zfour;
  const k2b = ((2 * zfour - 5 * zsquared) * PI_SQUARED) / 4;
  const k2c = (PI_FOUR * (1 - 2 * zsquared)) / 16;
  const k3d = (PI_SIX * (5 - 30 * zsquared)) / 64;
  const k3c = (PI_FOUR * (-60 * zsquared + 212 * zfour)) / 16;
  const k3b = (PI_SQUARED * (135 * zfour - 96 * zsix)) / 4;
  const k3a = -30 * zsix - 90 * z ** 8;
  const K = [0, 0, 0, 0];
  const maxk = Math.ceil((16 * z) / Math.PI);
  for (let k = maxk; k > 0; k--) {
    const m = 2 * k - 1;
    const msquared = m ** 2;
    const mfour = m ** 4;
    const msix = m ** 6;
    const qpower = q ** (8 * k);
    const coeffs = [
      1,
      k1a + k1b * msquared,
      k2a + k2b * msquared + k2c * mfour,
      k3a + k3b * msquared + k3c * mfour + k3d * msix,
    ];
    for (let i = 0; i < 4; i++) K[i] = (K[i] as number) * qpower + (coeffs[i] as number);
  }
  const divisors = [z, 6 * zfour, 72 * z ** 7, 6480 * z ** 10];
  for (let i = 0; i < 4; i++) K[i] = ((K[i] as number) * q * SQRT2PI) / (divisors[i] as number);
  q = Math.exp(-PI_SQUARED / 2 / zsquared);
  let k2extra = 0;
  let k3extra = 0;
  const sqrt3z = SQRT3 * z;
  for (let k = maxk; k > 0; k--) {
    const ksquared = k * k;
    const qpower = q ** ksquared;
    k2extra += ksquared * qpower;
    const kspi = Math.PI * k;
    k3extra += (sqrt3z + kspi) * (sqrt3z - kspi) * ksquared * qpower;
  }
  K[2] = (K[2] as number) + (k2extra * PI_SQUARED * SQRT2PI) / (-36 * zthree);
  K[3] = (K[3] as number) + (k3extra * PI_SQUARED * SQRT2PI) / (216 * zsix);
  let sum = 0;
  for (let i = 0; i < 4; i++) sum += (K[i] as number) / n ** (i / 2);
  return sum;
}

/** P(D_n > x): the two-sided one-sample KS survival function (`scipy.stats.kstwo.sf(x, n)`). */
export function kolmogorovSmirnovSf(n: number, x: number): number {
  if (!Number.isInteger(n) || n <= 0) return Number.NaN;
  if (x >= 1) return 0;
  if (x <= 0) return 1;
  const t = n * x;
  if (t <= 1) {
    if (t <= 0.5) return 1;
    let prob: number;
    if (n <= 140) {
      prob = 1;
      for (let i = 1; i <= n; i++) prob *= i * (1 / n) * (2 * t - 1);
    } else {
      prob = Math.exp(logNFactorialDivNPowN(n) + n * Math.log(2 * t - 1));
    }
    return clip(1 - prob);
  }
  if (t >= n - 1) return clip(2 * (1 - x) ** n);
  if (x >= 0.5) return clip(2 * smirnovSf(n, x));
  const nxsquared = t * x;
  if (n <= 140) {
    if (nxsquared <= 0.754693) return clip(1 - kolmognDurbin(n, x));
    if (nxsquared <= 4) return clip(1 - kolmognPomeranz(n, x));
    return clip(2 * smirnovSf(n, x));
  }
  if (nxsquared >= 370) return 0;
  if (nxsquared >= 2.2) return clip(2 * smirnovSf(n, x));
  let cdf: number;
  if (nxsquared >= 18) cdf = 1;
  else if (n <= 100_000 && n * x ** 1.5 <= 1.4) cdf = kolmognDurbin(n, x);
  else cdf = kolmognPelzGood(n, x);
  return clip(1 - cdf);
}
