/*
 * secp256k1 field and point arithmetic for the Noise handshake, compiled to WebAssembly
 * (scripts/build-wasm.sh). Written for sv2pool from the curve's definition; the TypeScript in
 * ../scalar-mult.ts, ../base-mult.ts and ../field.ts is the reference it is tested against.
 *
 * Why: JavaScript bigint costs ~100 ns and an allocation per field multiplication on Bun; here a
 * multiplication is ~100 64-bit multiplies in linear memory with no allocation, which makes the
 * responder's ECDH several times cheaper (bench/noise.ts prints both).
 *
 * Representation: a field element is ten 26-bit limbs, little-endian (value = sum n[i]·2^(26i)).
 * Limbs may run above 26 bits between operations; the bounds each function accepts and returns
 * are stated on it. 2^256 ≡ 0x1000003D1 and 2^260 ≡ 0x1000003D10 = 2^36 + 0x3D10 (mod p), which is
 * how high limbs fold back.
 *
 * The schedule of the scalar multiplications is fixed by the caller's digit recoding (every digit
 * non-zero); the arithmetic has no secret-dependent branches except the exceptional cases of the
 * addition formula, which the same caveats in ../scalar-mult.ts describe.
 */
#include <stdint.h>

typedef uint64_t u64;
typedef uint32_t u32;
typedef int32_t i32;

#define M26 0x3FFFFFFull
#define M22 0x3FFFFFull

typedef struct {
  u32 n[10];
} fe;

/* ---- field ------------------------------------------------------------------------------ */

/*
 * Bounds. Every function below returns limbs < 2^27 and accepts limbs < 2^27, except that fe_mul
 * and fe_sqr also accept a sum of two such elements (< 2^28). Carries are done "in parallel":
 * each limb keeps its low 26 bits and takes the previous limb's high part, which bounds the limbs
 * again without a 10-step serial carry chain (the chain's latency is what a multiplication would
 * otherwise wait on). Only fe_normalize, for output and comparisons, carries exactly.
 */

/* Limbs < 2^32 to limbs < 2^27; what is above limb 9 folds back (2^260 ≡ 2^36 + 0x3D10). */
static void fe_carry(fe *r) {
  u32 *n = r->n;
  u32 top = n[9] >> 26;
  u32 d[10];
  d[0] = (n[0] & M26) + top * 0x3D10u;
  d[1] = (n[1] & M26) + (n[0] >> 26) + (top << 10);
  for (int i = 2; i < 10; i++) d[i] = (n[i] & M26) + (n[i - 1] >> 26);
  for (int i = 0; i < 10; i++) n[i] = d[i];
}

/* Exact carry: limbs 0..8 < 2^26, limb 9 < 2^22 + 1 (the value is below 2^256 + 2^33). */
static void fe_carry_full(fe *r) {
  u64 t[10];
  for (int i = 0; i < 10; i++) t[i] = r->n[i];
  for (int round = 0; round < 2; round++) {
    for (int i = 0; i < 9; i++) {
      t[i + 1] += t[i] >> 26;
      t[i] &= M26;
    }
    u64 h = t[9] >> 22;
    t[9] &= M22;
    t[0] += h * 0x3D1ull;
    t[1] += h << 6;
  }
  for (int i = 0; i < 9; i++) {
    t[i + 1] += t[i] >> 26;
    t[i] &= M26;
  }
  for (int i = 0; i < 10; i++) r->n[i] = (u32)t[i];
}

/* The canonical value in [0, p). */
static void fe_normalize(fe *r) {
  fe_carry_full(r);
  /* Value < 2^256 + small. Adding 2^256 − p = 0x1000003D1 overflows 2^256 exactly when value ≥ p. */
  u64 u[10];
  u64 c = (u64)r->n[0] + 0x3D1ull;
  u[0] = c & M26;
  c = (c >> 26) + (u64)r->n[1] + 0x40ull;
  u[1] = c & M26;
  for (int i = 2; i < 9; i++) {
    c = (c >> 26) + r->n[i];
    u[i] = c & M26;
  }
  c = (c >> 26) + r->n[9];
  u[9] = c & M22;
  u64 over = (c >> 22) | (r->n[9] >> 22);
  u32 mask = (u32)0 - (u32)(over != 0);
  for (int i = 0; i < 10; i++) r->n[i] = (r->n[i] & ~mask) | ((u32)u[i] & mask);
}

static void fe_set_int(fe *r, u32 v) {
  r->n[0] = v;
  for (int i = 1; i < 10; i++) r->n[i] = 0;
}

static void fe_copy(fe *r, const fe *a) {
  for (int i = 0; i < 10; i++) r->n[i] = a->n[i];
}

/* Big-endian 32 bytes to limbs, reduced mod p. */
static void fe_set_b32(fe *r, const uint8_t *in) {
  u64 acc = 0;
  int bits = 0;
  int limb = 0;
  for (int i = 31; i >= 0; i--) {
    acc |= (u64)in[i] << bits;
    bits += 8;
    while (bits >= 26 && limb < 9) {
      r->n[limb++] = (u32)(acc & M26);
      acc >>= 26;
      bits -= 26;
    }
  }
  r->n[9] = (u32)acc;
  fe_normalize(r);
}

/* Canonical big-endian 32 bytes. */
static void fe_get_b32(uint8_t *out, const fe *a) {
  fe t;
  fe_copy(&t, a);
  fe_normalize(&t);
  u64 acc = 0;
  int bits = 0;
  int limb = 0;
  for (int i = 31; i >= 0; i--) {
    while (bits < 8) {
      acc |= (u64)t.n[limb++] << bits;
      bits += 26;
    }
    out[i] = (uint8_t)acc;
    acc >>= 8;
    bits -= 8;
  }
}

static int fe_is_zero(const fe *a) {
  fe t;
  fe_copy(&t, a);
  fe_normalize(&t);
  u32 z = 0;
  for (int i = 0; i < 10; i++) z |= t.n[i];
  return z == 0;
}

static int fe_equal(const fe *a, const fe *b) {
  fe x, y;
  fe_copy(&x, a);
  fe_copy(&y, b);
  fe_normalize(&x);
  fe_normalize(&y);
  u32 d = 0;
  for (int i = 0; i < 10; i++) d |= x.n[i] ^ y.n[i];
  return d == 0;
}

/* Folds the 19 product columns (each < 2^60) into ten limbs < 2^27. */
static void fe_reduce_columns(fe *r, const u64 *c) {
  /* Split every column into its low 26 bits plus the previous column's high part: d[k] < 2^35. */
  u64 d[20];
  d[0] = c[0] & M26;
#pragma clang loop unroll(full)
  for (int k = 1; k < 19; k++) d[k] = (c[k] & M26) + (c[k - 1] >> 26);
  d[19] = c[18] >> 26;
  /* Limb 10+j has weight 2^260·2^(26j) ≡ (2^36 + 0x3D10)·2^(26j): 0x3D10 to limb j, 2^10 to j+1. */
  u64 e[11];
  e[0] = d[0] + d[10] * 0x3D10ull;
#pragma clang loop unroll(full)
  for (int j = 1; j < 10; j++) e[j] = d[j] + d[10 + j] * 0x3D10ull + (d[9 + j] << 10);
  e[10] = d[19] << 10;
  /* e[j] < 2^50: split once more, fold what reached limb 10, and settle the low limbs it touched. */
  u64 f[11];
  f[0] = e[0] & M26;
#pragma clang loop unroll(full)
  for (int j = 1; j < 10; j++) f[j] = (e[j] & M26) + (e[j - 1] >> 26);
  f[10] = e[10] + (e[9] >> 26);
  f[0] += f[10] * 0x3D10ull;
  f[1] += f[10] << 10;
  f[1] += f[0] >> 26;
  f[0] &= M26;
  f[2] += f[1] >> 26;
  f[1] &= M26;
  f[3] += f[2] >> 26;
  f[2] &= M26;
  for (int j = 0; j < 10; j++) r->n[j] = (u32)f[j];
}

/* r = a·b; limbs < 2^28 in. r may alias a or b. */
static void fe_mul(fe *r, const fe *a, const fe *b) {
  u64 x[10], y[10], c[19];
  for (int i = 0; i < 10; i++) {
    x[i] = a->n[i];
    y[i] = b->n[i];
  }
  for (int k = 0; k < 19; k++) c[k] = 0;
  /* Fully unrolled so that every column stays in a local (a loop would keep c[] in memory). */
#pragma clang loop unroll(full)
  for (int i = 0; i < 10; i++)
#pragma clang loop unroll(full)
    for (int j = 0; j < 10; j++) c[i + j] += x[i] * y[j];
  fe_reduce_columns(r, c);
}

/* r = a², with each cross product computed once. Same bounds as fe_mul. */
static void fe_sqr(fe *r, const fe *a) {
  u64 x[10], d[10], c[19];
  for (int i = 0; i < 10; i++) {
    x[i] = a->n[i];
    d[i] = x[i] << 1;
  }
  for (int k = 0; k < 19; k++) c[k] = 0;
#pragma clang loop unroll(full)
  for (int i = 0; i < 10; i++) {
    c[2 * i] += x[i] * x[i];
#pragma clang loop unroll(full)
    for (int j = i + 1; j < 10; j++) c[i + j] += d[i] * x[j];
  }
  fe_reduce_columns(r, c);
}

static void fe_add(fe *r, const fe *a, const fe *b) {
  for (int i = 0; i < 10; i++) r->n[i] = a->n[i] + b->n[i];
  fe_carry(r);
}

/* 32·p limb by limb: each limb exceeds the largest limb a reduced operand can have. */
static const u32 P32[10] = {
    0x3FFFC2Fu << 5, 0x3FFFFBFu << 5, 0x3FFFFFFu << 5, 0x3FFFFFFu << 5, 0x3FFFFFFu << 5,
    0x3FFFFFFu << 5, 0x3FFFFFFu << 5, 0x3FFFFFFu << 5, 0x3FFFFFFu << 5, 0x3FFFFFu << 5,
};

/* r = a − b as a + 32p − b: 32p's limbs exceed b's (limbs 0..8 < 2^27 ≤ 2^31 − 2^16; limb 9, which
 * every function here leaves below 2^26 + 2^24, against 2^27 − 32), so no limb goes negative. */
static void fe_sub(fe *r, const fe *a, const fe *b) {
  for (int i = 0; i < 10; i++) r->n[i] = a->n[i] + P32[i] - b->n[i];
  fe_carry(r);
}

static void fe_neg(fe *r, const fe *a) {
  fe z;
  fe_set_int(&z, 0);
  fe_sub(r, &z, a);
}

static void fe_mul_small(fe *r, const fe *a, u32 k) {
  for (int i = 0; i < 10; i++) r->n[i] = a->n[i] * k;
  fe_carry(r);
}

static void fe_sqr_n(fe *r, const fe *a, int n) {
  fe_copy(r, a);
  for (int i = 0; i < n; i++) fe_sqr(r, r);
}

/* The runs of ones every exponent below uses: x_k = a^(2^k − 1). */
typedef struct {
  fe x2, x3, x22, x223;
} runs;

static void fe_runs(runs *o, const fe *a) {
  fe x6, x9, x11, x44, x88, x176, x220, t;
  fe_sqr(&t, a);
  fe_mul(&o->x2, &t, a);
  fe_sqr(&t, &o->x2);
  fe_mul(&o->x3, &t, a);
  fe_sqr_n(&t, &o->x3, 3);
  fe_mul(&x6, &t, &o->x3);
  fe_sqr_n(&t, &x6, 3);
  fe_mul(&x9, &t, &o->x3);
  fe_sqr_n(&t, &x9, 2);
  fe_mul(&x11, &t, &o->x2);
  fe_sqr_n(&t, &x11, 11);
  fe_mul(&o->x22, &t, &x11);
  fe_sqr_n(&t, &o->x22, 22);
  fe_mul(&x44, &t, &o->x22);
  fe_sqr_n(&t, &x44, 44);
  fe_mul(&x88, &t, &x44);
  fe_sqr_n(&t, &x88, 88);
  fe_mul(&x176, &t, &x88);
  fe_sqr_n(&t, &x176, 44);
  fe_mul(&x220, &t, &x44);
  fe_sqr_n(&t, &x220, 3);
  fe_mul(&o->x223, &t, &o->x3);
}

/*
 * r = a^((p−3)/4), the one addition chain the three below share. (p−3)/4 in binary: 223 ones, 0,
 * 22 ones, 00001011. For a non-zero square a, r² = 1/a and a·r is its root: the ElligatorSwift
 * encoder uses that to get a root and an inverse from one exponentiation.
 */
static void fe_isqrt(fe *r, const fe *a) {
  runs o;
  fe t;
  fe_runs(&o, a);
  fe_sqr_n(&t, &o.x223, 23);
  fe_mul(&t, &t, &o.x22);
  fe_sqr_n(&t, &t, 5);
  fe_mul(&t, &t, a);
  fe_sqr_n(&t, &t, 3);
  fe_mul(r, &t, &o.x2);
}

/* r = a^(p−2) = 1/a (0 for 0): p − 2 = 4·(p−3)/4 + 1. */
static void fe_inv(fe *r, const fe *a) {
  fe t;
  fe_isqrt(&t, a);
  fe_sqr_n(&t, &t, 2);
  fe_mul(r, &t, a);
}

/* r = a^((p+1)/4) = a·a^((p−3)/4); returns 1 when r² = a (a is a square). */
static int fe_sqrt(fe *r, const fe *a) {
  fe t, check;
  fe_isqrt(&t, a);
  fe_mul(r, &t, a);
  fe_sqr(&check, r);
  return fe_equal(&check, a);
}

/* ---- Legendre symbol ------------------------------------------------------------------------ */

/* 256-bit unsigned integers as four 64-bit limbs, little-endian, for the binary Jacobi algorithm. */
static void u256_from_fe(u64 *out, const fe *a) {
  uint8_t b[32];
  fe_get_b32(b, a);
  for (int i = 0; i < 4; i++) {
    u64 v = 0;
    for (int j = 0; j < 8; j++) v = (v << 8) | b[(3 - i) * 8 + j];
    out[i] = v;
  }
}

static const u64 P64[4] = {0xFFFFFFFEFFFFFC2Full, 0xFFFFFFFFFFFFFFFFull, 0xFFFFFFFFFFFFFFFFull, 0xFFFFFFFFFFFFFFFFull};

static int u256_is_zero(const u64 *a) { return (a[0] | a[1] | a[2] | a[3]) == 0; }

static int u256_lt(const u64 *a, const u64 *b) {
  for (int i = 3; i >= 0; i--) {
    if (a[i] != b[i]) return a[i] < b[i];
  }
  return 0;
}

static void u256_sub(u64 *a, const u64 *b) {
  u64 borrow = 0;
  for (int i = 0; i < 4; i++) {
    u64 d = a[i] - b[i] - borrow;
    borrow = (a[i] < b[i]) || (a[i] - b[i] < borrow);
    a[i] = d;
  }
}

static void u256_shr(u64 *a, int t) {
  while (t >= 64) {
    a[0] = a[1];
    a[1] = a[2];
    a[2] = a[3];
    a[3] = 0;
    t -= 64;
  }
  if (t == 0) return;
  for (int i = 0; i < 3; i++) a[i] = (a[i] >> t) | (a[i + 1] << (64 - t));
  a[3] >>= t;
}

/*
 * The Legendre symbol (a/p): 1 for a non-zero square, −1 for a non-square, 0 for 0. The binary
 * Jacobi algorithm (strip twos, swap with reciprocity, subtract) costs a few microseconds, a third
 * of the exponentiation fe_sqrt does, which is why the ElligatorSwift tries test before they root.
 * Its running time depends on the value (it is used on public or random values only).
 */
static int fe_legendre(const fe *x) {
  u64 a[4], n[4];
  u256_from_fe(a, x);
  for (int i = 0; i < 4; i++) n[i] = P64[i];
  int r = 1;
  while (!u256_is_zero(a)) {
    int t = 0;
    int limb = 0;
    while (a[limb] == 0) {
      limb++;
      t += 64;
    }
    t += __builtin_ctzll(a[limb]);
    u256_shr(a, t);
    u64 n8 = n[0] & 7;
    if ((t & 1) && (n8 == 3 || n8 == 5)) r = -r;
    if (u256_lt(a, n)) {
      u64 tmp[4];
      for (int i = 0; i < 4; i++) {
        tmp[i] = a[i];
        a[i] = n[i];
        n[i] = tmp[i];
      }
      if ((a[0] & 3) == 3 && (n[0] & 3) == 3) r = -r;
    }
    u256_sub(a, n);
  }
  return (n[0] == 1 && n[1] == 0 && n[2] == 0 && n[3] == 0) ? r : 0;
}

/* ---- variable-time inverse ----------------------------------------------------------------- */

static int u256_is_one(const u64 *a) { return a[0] == 1 && (a[1] | a[2] | a[3]) == 0; }

/* a += p; returns the carry out of 256 bits. */
static u64 u256_add_p(u64 *a) {
  u64 carry = 0;
  for (int i = 0; i < 4; i++) {
    u64 s = a[i] + P64[i];
    u64 c1 = s < a[i];
    u64 s2 = s + carry;
    carry = c1 | (s2 < s);
    a[i] = s2;
  }
  return carry;
}

/* a = a / 2 mod p for a < p: (a + p) / 2 when a is odd, the 257th bit kept through the shift. */
static void u256_half_mod(u64 *a) {
  u64 carry = (a[0] & 1) ? u256_add_p(a) : 0;
  for (int i = 0; i < 3; i++) a[i] = (a[i] >> 1) | (a[i + 1] << 63);
  a[3] = (a[3] >> 1) | (carry << 63);
}

/* a = a − b mod p for a, b < p. */
static void u256_sub_mod(u64 *a, const u64 *b) {
  int borrow = u256_lt(a, b);
  u256_sub(a, b);
  if (borrow) u256_add_p(a);
}

static void fe_from_u256(fe *r, const u64 *a) {
  uint8_t b[32];
  for (int i = 0; i < 4; i++) {
    for (int j = 0; j < 8; j++) b[(3 - i) * 8 + j] = (uint8_t)(a[i] >> (56 - 8 * j));
  }
  fe_set_b32(r, b);
}

/*
 * 1/a (0 for 0) by the binary extended Euclidean algorithm: about four times quicker than the
 * exponentiation in fe_inv here, but its running time depends on a, so only the ElligatorSwift
 * encoding and decoding use it: their inputs are public keys and the random u sent with them
 * (libsecp256k1's ellswift code uses variable-time inversion on the same grounds). Secret-dependent
 * values (the scalar multiplications' results) keep fe_inv.
 */
static void fe_inv_var(fe *r, const fe *x) {
  u64 u[4], v[4], x1[4] = {1, 0, 0, 0}, x2[4] = {0, 0, 0, 0};
  u256_from_fe(u, x);
  if (u256_is_zero(u)) {
    fe_set_int(r, 0);
    return;
  }
  for (int i = 0; i < 4; i++) v[i] = P64[i];
  /* Invariants: x1·a ≡ u and x2·a ≡ v (mod p); gcd(u, v) = 1 throughout. */
  while (!u256_is_one(u) && !u256_is_one(v)) {
    while ((u[0] & 1) == 0) {
      u256_shr(u, 1);
      u256_half_mod(x1);
    }
    while ((v[0] & 1) == 0) {
      u256_shr(v, 1);
      u256_half_mod(x2);
    }
    if (!u256_lt(u, v)) {
      u256_sub(u, v);
      u256_sub_mod(x1, x2);
    } else {
      u256_sub(v, u);
      u256_sub_mod(x2, x1);
    }
  }
  fe_from_u256(r, u256_is_one(u) ? x1 : x2);
}

/* Montgomery's trick: every element of v replaced by its inverse (all non-zero), one fe_inv. */
static void fe_inv_all(fe *v, fe *scratch, int count) {
  fe acc, t;
  fe_set_int(&acc, 1);
  for (int i = 0; i < count; i++) {
    fe_copy(&scratch[i], &acc);
    fe_mul(&acc, &acc, &v[i]);
  }
  fe_inv(&acc, &acc);
  for (int i = count - 1; i >= 0; i--) {
    fe_mul(&t, &acc, &scratch[i]);
    fe_mul(&acc, &acc, &v[i]);
    fe_copy(&v[i], &t);
  }
}

/* ---- points ----------------------------------------------------------------------------- */

/* Jacobian (X/Z², Y/Z³) on y² = x³ + b for any b: the formulas never use b. */
typedef struct {
  fe x, y, z;
  int inf;
} gej;

/* Doubling for a = 0: 3M + 4S. Points of odd prime order have y ≠ 0, so no infinity arises. */
static void gej_double(gej *p) {
  if (p->inf) return;
  fe a, b, c, d, e, t, x3, y3;
  fe_sqr(&a, &p->x);
  fe_sqr(&b, &p->y);
  fe_sqr(&c, &b);
  fe_mul(&d, &p->x, &b);
  fe_mul_small(&d, &d, 4);
  fe_mul_small(&e, &a, 3);
  fe_sqr(&x3, &e);
  fe_add(&t, &d, &d);
  fe_sub(&x3, &x3, &t);
  fe_sub(&t, &d, &x3);
  fe_mul(&y3, &e, &t);
  fe_mul_small(&c, &c, 8);
  fe_sub(&y3, &y3, &c);
  fe_mul(&p->z, &p->y, &p->z);
  fe_add(&p->z, &p->z, &p->z);
  fe_copy(&p->x, &x3);
  fe_copy(&p->y, &y3);
}

/* p += (ax, ay) affine: 8M + 3S, with the exceptional cases (equal or opposite points). */
static void gej_add_affine(gej *p, const fe *ax, const fe *ay) {
  if (p->inf) {
    fe_copy(&p->x, ax);
    fe_copy(&p->y, ay);
    fe_set_int(&p->z, 1);
    p->inf = 0;
    return;
  }
  fe zz, h, r, t, hh, hhh, v, x3, y3;
  fe_sqr(&zz, &p->z);
  fe_mul(&h, ax, &zz);
  fe_sub(&h, &h, &p->x);
  fe_mul(&r, ay, &p->z);
  fe_mul(&r, &r, &zz);
  fe_sub(&r, &r, &p->y);
  if (fe_is_zero(&h)) {
    if (fe_is_zero(&r)) gej_double(p);
    else p->inf = 1;
    return;
  }
  fe_sqr(&hh, &h);
  fe_mul(&hhh, &hh, &h);
  fe_mul(&v, &p->x, &hh);
  fe_sqr(&x3, &r);
  fe_sub(&x3, &x3, &hhh);
  fe_add(&t, &v, &v);
  fe_sub(&x3, &x3, &t);
  fe_sub(&t, &v, &x3);
  fe_mul(&y3, &r, &t);
  fe_mul(&t, &p->y, &hhh);
  fe_sub(&y3, &y3, &t);
  fe_mul(&p->z, &p->z, &h);
  fe_copy(&p->x, &x3);
  fe_copy(&p->y, &y3);
}

/* ---- the memory the TypeScript side reads and writes ------------------------------------ */

/* io: [0,32) input 1, [32,64) output, [64,128) input 2 / digits of the first half,
 * [128,192) digits of the second half, [192,224) second output (y of base_mul_io). */
static uint8_t io[256];

uint8_t *io_ptr(void) { return io; }

/* cube root of unity β: (β·x, y) = λ·(x, y) */
static const uint8_t BETA_B32[32] = {
    0x7a, 0xe9, 0x6a, 0x2b, 0x65, 0x7c, 0x07, 0x10, 0x6e, 0x64, 0x47, 0x9e, 0xac, 0x34, 0x34, 0xe9,
    0x9c, 0xf0, 0x49, 0x75, 0x12, 0xf5, 0x89, 0x95, 0xc1, 0x39, 0x6c, 0x28, 0x71, 0x95, 0x01, 0xee,
};
static const uint8_t GX_B32[32] = {
    0x79, 0xbe, 0x66, 0x7e, 0xf9, 0xdc, 0xbb, 0xac, 0x55, 0xa0, 0x62, 0x95, 0xce, 0x87, 0x0b, 0x07,
    0x02, 0x9b, 0xfc, 0xdb, 0x2d, 0xce, 0x28, 0xd9, 0x59, 0xf2, 0x81, 0x5b, 0x16, 0xf8, 0x17, 0x98,
};
static const uint8_t GY_B32[32] = {
    0x48, 0x3a, 0xda, 0x77, 0x26, 0xa3, 0xc4, 0x65, 0x5d, 0xa4, 0xfb, 0xfc, 0x0e, 0x11, 0x08, 0xa8,
    0xfd, 0x17, 0xb4, 0x48, 0xa6, 0x85, 0x54, 0x19, 0x9c, 0x47, 0xd0, 0x8f, 0xfb, 0x10, 0xd4, 0xb8,
};

/* a^((p+1)/4) of io[0..32) into io[32..64); returns 1 when it is a square root. */
i32 sqrt_io(void) {
  fe a, r;
  fe_set_b32(&a, io);
  int ok = fe_sqrt(&r, &a);
  fe_get_b32(io + 32, &r);
  return ok;
}

/* 1/a of io[0..32) into io[32..64) (0 for 0). */
void inv_io(void) {
  fe a;
  fe_set_b32(&a, io);
  fe_inv(&a, &a);
  fe_get_b32(io + 32, &a);
}

/* The same with the variable-time inverse (public values only). */
void inv_var_io(void) {
  fe a;
  fe_set_b32(&a, io);
  fe_inv_var(&a, &a);
  fe_get_b32(io + 32, &a);
}

/* io[0..32) · io[64..96) into io[32..64). */
void mul_io(void) {
  fe a, b;
  fe_set_b32(&a, io);
  fe_set_b32(&b, io + 64);
  fe_mul(&a, &a, &b);
  fe_get_b32(io + 32, &a);
}

/* ---- variable-point multiplication (the handshake's ECDH) ------------------------------- */

#define WINDOW 5
#define TABLE 16 /* odd multiples 1·P … 31·P */

/* The prepared point: odd multiples on an isomorphic curve (see ../scalar-mult.ts), their
 * λ-images, 2·P for the final correction, and the factor that maps x back to secp256k1. */
static fe tx[TABLE], ty[TABLE], tbx[TABLE], twice_x, twice_y, twice_bx, scale, beta;
static fe scratch[TABLE];
static int beta_ready = 0;

/* Prepares x (io[0..32), known to be on the curve) for point_mul_io. */
void prepare_io(void) {
  if (!beta_ready) {
    fe_set_b32(&beta, BETA_B32);
    beta_ready = 1;
  }
  fe x, v, t, px, py, z2sq;
  fe_set_b32(&x, io);
  /* v = x³ + 7 is y², so (v·x, v²) is the point on y² = x³ + 7v³: no square root needed. */
  fe_sqr(&t, &x);
  fe_mul(&t, &t, &x);
  fe seven;
  fe_set_int(&seven, 7);
  fe_add(&v, &t, &seven);
  fe_mul(&px, &v, &x);
  fe_sqr(&py, &v);
  gej two = {px, py, {{1}}, 0};
  fe_set_int(&two.z, 1);
  gej_double(&two);
  /* Rescale by Z(2P) so that 2P is the affine (X2, Y2) and P is (px·z², py·z³). */
  fe_sqr(&z2sq, &two.z);
  gej acc[TABLE];
  fe_mul(&acc[0].x, &px, &z2sq);
  fe_mul(&t, &py, &z2sq);
  fe_mul(&acc[0].y, &t, &two.z);
  fe_set_int(&acc[0].z, 1);
  acc[0].inf = 0;
  for (int i = 1; i < TABLE; i++) {
    acc[i] = acc[i - 1];
    gej_add_affine(&acc[i], &two.x, &two.y);
  }
  fe zs[TABLE];
  for (int i = 0; i < TABLE; i++) fe_copy(&zs[i], &acc[i].z);
  fe_inv_all(zs, scratch, TABLE);
  for (int i = 0; i < TABLE; i++) {
    fe zi2;
    fe_sqr(&zi2, &zs[i]);
    fe_mul(&tx[i], &acc[i].x, &zi2);
    fe_mul(&t, &acc[i].y, &zi2);
    fe_mul(&ty[i], &t, &zs[i]);
    fe_mul(&tbx[i], &tx[i], &beta);
  }
  fe_copy(&twice_x, &two.x);
  fe_copy(&twice_y, &two.y);
  fe_mul(&twice_bx, &two.x, &beta);
  fe_mul(&scale, &v, &z2sq);
}

static void add_digit(gej *acc, const fe *xs, int digit, int negate_y) {
  int idx = (digit < 0 ? -digit : digit) >> 1;
  fe y;
  if ((digit < 0) != negate_y) fe_neg(&y, &ty[idx]);
  else fe_copy(&y, &ty[idx]);
  gej_add_affine(acc, &xs[idx], &y);
}

/*
 * x(d·P) for the prepared P into io[32..64), from the GLV halves' odd signed digits (int8,
 * least significant first) at io[64..) and io[128..); neg1/neg2 say a half was negative,
 * delta1/delta2 (1 or 2) what was added to make it odd. Returns 0 if the result is infinity.
 */
i32 point_mul_io(i32 digits, i32 neg1, i32 neg2, i32 delta1, i32 delta2) {
  const int8_t *d1 = (const int8_t *)(io + 64);
  const int8_t *d2 = (const int8_t *)(io + 128);
  gej acc;
  acc.inf = 1;
  fe_set_int(&acc.x, 0);
  fe_set_int(&acc.y, 0);
  fe_set_int(&acc.z, 0);
  int top = digits - 1;
  add_digit(&acc, tx, d1[top], neg1);
  add_digit(&acc, tbx, d2[top], neg2);
  for (int i = top - 1; i >= 0; i--) {
    for (int j = 0; j < WINDOW; j++) gej_double(&acc);
    add_digit(&acc, tx, d1[i], neg1);
    add_digit(&acc, tbx, d2[i], neg2);
  }
  /* Subtract δ·P per half: 1·P is table entry 0, 2·P is kept apart. */
  fe y;
  if (neg1) fe_copy(&y, delta1 == 1 ? &ty[0] : &twice_y);
  else fe_neg(&y, delta1 == 1 ? &ty[0] : &twice_y);
  gej_add_affine(&acc, delta1 == 1 ? &tx[0] : &twice_x, &y);
  if (neg2) fe_copy(&y, delta2 == 1 ? &ty[0] : &twice_y);
  else fe_neg(&y, delta2 == 1 ? &ty[0] : &twice_y);
  gej_add_affine(&acc, delta2 == 1 ? &tbx[0] : &twice_bx, &y);
  if (acc.inf) return 0;
  fe d, x;
  fe_sqr(&d, &acc.z);
  fe_mul(&d, &d, &scale);
  fe_inv(&d, &d);
  fe_mul(&x, &acc.x, &d);
  fe_get_b32(io + 32, &x);
  return 1;
}

/* ---- fixed-base multiplication (key generation) ------------------------------------------ */

#define BASE_ROWS 53 /* ceil(256 / WINDOW) + 1 */
static fe gx[BASE_ROWS * TABLE], gy[BASE_ROWS * TABLE];
static fe gz[BASE_ROWS * TABLE], gscratch[BASE_ROWS * TABLE];
static int g_ready = 0;

/* Row i holds (2j+1)·2^(WINDOW·i)·G, affine. */
static void build_g_table(void) {
  gej pts[TABLE];
  fe bx, by;
  fe_set_b32(&bx, GX_B32);
  fe_set_b32(&by, GY_B32);
  for (int row = 0; row < BASE_ROWS; row++) {
    gej two = {bx, by, {{1}}, 0};
    fe_set_int(&two.z, 1);
    gej_double(&two);
    fe zi, zi2, t;
    fe_inv(&zi, &two.z);
    fe_sqr(&zi2, &zi);
    fe tx2, ty2;
    fe_mul(&tx2, &two.x, &zi2);
    fe_mul(&t, &two.y, &zi2);
    fe_mul(&ty2, &t, &zi);
    pts[0].x = bx;
    pts[0].y = by;
    fe_set_int(&pts[0].z, 1);
    pts[0].inf = 0;
    for (int j = 1; j < TABLE; j++) {
      pts[j] = pts[j - 1];
      gej_add_affine(&pts[j], &tx2, &ty2);
    }
    for (int j = 0; j < TABLE; j++) {
      gx[row * TABLE + j] = pts[j].x;
      gy[row * TABLE + j] = pts[j].y;
      gz[row * TABLE + j] = pts[j].z;
    }
    gej next = {bx, by, {{1}}, 0};
    fe_set_int(&next.z, 1);
    for (int k = 0; k < WINDOW; k++) gej_double(&next);
    fe_inv(&zi, &next.z);
    fe_sqr(&zi2, &zi);
    fe_mul(&bx, &next.x, &zi2);
    fe_mul(&t, &next.y, &zi2);
    fe_mul(&by, &t, &zi);
  }
  fe_inv_all(gz, gscratch, BASE_ROWS * TABLE);
  for (int i = 0; i < BASE_ROWS * TABLE; i++) {
    fe zi2, t;
    fe_sqr(&zi2, &gz[i]);
    fe_mul(&gx[i], &gx[i], &zi2);
    fe_mul(&t, &gy[i], &zi2);
    fe_mul(&gy[i], &t, &gz[i]);
  }
  g_ready = 1;
}

/* d·G from d's BASE_ROWS odd signed digits at io[64..): x into io[32..64), y into io[192..224)
 * (BIP340 signing needs y's parity). Returns 0 on infinity. */
i32 base_mul_io(void) {
  if (!g_ready) build_g_table();
  const int8_t *d = (const int8_t *)(io + 64);
  gej acc;
  acc.inf = 1;
  fe_set_int(&acc.x, 0);
  fe_set_int(&acc.y, 0);
  fe_set_int(&acc.z, 0);
  for (int i = 0; i < BASE_ROWS; i++) {
    int digit = d[i];
    int idx = i * TABLE + ((digit < 0 ? -digit : digit) >> 1);
    fe y;
    if (digit < 0) fe_neg(&y, &gy[idx]);
    else fe_copy(&y, &gy[idx]);
    gej_add_affine(&acc, &gx[idx], &y);
  }
  if (acc.inf) return 0;
  fe zi, zi2, x, y;
  fe_inv(&zi, &acc.z);
  fe_sqr(&zi2, &zi);
  fe_mul(&x, &acc.x, &zi2);
  fe_mul(&y, &acc.y, &zi2);
  fe_mul(&y, &y, &zi);
  fe_get_b32(io + 32, &x);
  fe_get_b32(io + 192, &y);
  return 1;
}

/* ---- ElligatorSwift (BIP324) ---------------------------------------------------------------- */
/* The same formulas as ../ellswift.ts (xswiftec and xswiftecInvUnnormalized; the reasoning is
 * written there), with square tests by the Legendre symbol, roots only when they exist, and the
 * variable-time inverse: everything here is computed from public keys and the public u. */

static fe sqrt_minus_3, c_inv, half;
static int swift_ready = 0;

static void swift_init(void) {
  if (swift_ready) return;
  fe m3, one, two, t;
  fe_set_int(&m3, 3);
  fe_neg(&m3, &m3);
  fe_sqrt(&sqrt_minus_3, &m3);
  fe_set_int(&one, 1);
  fe_set_int(&two, 2);
  fe_sub(&t, &sqrt_minus_3, &one);
  fe_inv(&two, &two);
  fe_copy(&half, &two);
  fe_mul(&c_inv, &t, &two);
  swift_ready = 1;
}

static int is_square(const fe *a) { return fe_legendre(a) != -1; }

/* x³ + 7 is a square: x is the x coordinate of a curve point. */
static int is_valid_x(const fe *x) {
  fe t, seven;
  fe_sqr(&t, x);
  fe_mul(&t, &t, x);
  fe_set_int(&seven, 7);
  fe_add(&t, &t, &seven);
  return is_square(&t);
}

/* XSwiftEC(u, t): u at io[0..32), t at io[64..96); x into io[32..64). */
void decode_io(void) {
  swift_init();
  fe u, t, u2, u3p7, t2, n, m, q, a1, tmp, tmp2, seven;
  fe_set_b32(&u, io);
  fe_set_b32(&t, io + 64);
  if (fe_is_zero(&u)) fe_set_int(&u, 1);
  if (fe_is_zero(&t)) fe_set_int(&t, 1);
  fe_set_int(&seven, 7);
  fe_sqr(&u2, &u);
  fe_mul(&u3p7, &u2, &u);
  fe_add(&u3p7, &u3p7, &seven);
  fe_sqr(&t2, &t);
  fe_add(&tmp, &u3p7, &t2);
  if (fe_is_zero(&tmp)) {
    fe_add(&t, &t, &t);
    fe_sqr(&t2, &t);
  }
  fe_sub(&n, &u3p7, &t2);
  fe_add(&m, &t2, &t2);
  fe_add(&m, &m, &n);
  /* q = −3·t²·u² */
  fe_mul(&q, &t2, &u2);
  fe_mul_small(&q, &q, 3);
  fe_neg(&q, &q);
  /* a1 = u·q + m²; x1 = a1/q is on the curve when a1³ + 7q³ is a square */
  fe_mul(&a1, &u, &q);
  fe_sqr(&tmp, &m);
  fe_add(&a1, &a1, &tmp);
  fe_sqr(&tmp, &a1);
  fe_mul(&tmp, &tmp, &a1);
  fe_sqr(&tmp2, &q);
  fe_mul(&tmp2, &tmp2, &q);
  fe_mul_small(&tmp2, &tmp2, 7);
  fe_add(&tmp, &tmp, &tmp2);
  fe x;
  if (is_square(&tmp)) {
    fe_inv_var(&tmp, &q);
    fe_mul(&x, &a1, &tmp);
    fe_get_b32(io + 32, &x);
    return;
  }
  fe nc, b23, a2, b3x7;
  fe_mul(&nc, &n, &sqrt_minus_3);
  fe_add(&b23, &m, &m);
  fe_add(&tmp, &nc, &m);
  fe_mul(&a2, &u, &tmp);
  fe_neg(&a2, &a2);
  fe_sqr(&b3x7, &b23);
  fe_mul(&b3x7, &b3x7, &b23);
  fe_mul_small(&b3x7, &b3x7, 7);
  fe_sqr(&tmp, &a2);
  fe_mul(&tmp, &tmp, &a2);
  fe_add(&tmp, &tmp, &b3x7);
  fe_mul(&tmp, &tmp, &b23);
  fe inv_b;
  fe_inv_var(&inv_b, &b23);
  if (is_square(&tmp)) {
    fe_mul(&x, &a2, &inv_b);
  } else {
    fe_sub(&tmp, &nc, &m);
    fe_mul(&tmp, &tmp, &u);
    fe_mul(&x, &tmp, &inv_b);
  }
  fe_get_b32(io + 32, &x);
}

/*
 * One try of the encoder: a t with XSwiftEC(u, t) = ±x for case c (0..7), or 0 when this (u, c)
 * has none. u at io[0..32), x at io[64..96) (a valid x); t into io[32..64).
 */
i32 encode_try_io(i32 c) {
  swift_init();
  fe u, x, u2, u3p7, tmp, seven, w;
  fe_set_b32(&u, io);
  fe_set_b32(&x, io + 64);
  fe_set_int(&seven, 7);
  fe_sqr(&u2, &u);
  fe_mul(&u3p7, &u2, &u);
  fe_add(&u3p7, &u3p7, &seven);
  if ((c & 2) == 0) {
    fe mxu, v, den;
    fe_neg(&mxu, &x);
    fe_sub(&mxu, &mxu, &u);
    if (is_valid_x(&mxu)) return 0;
    if ((c & 1) == 0) fe_copy(&v, &x);
    else fe_copy(&v, &mxu);
    fe_mul(&den, &u, &v);
    fe_add(&den, &den, &u2);
    fe_sqr(&tmp, &v);
    fe_add(&den, &den, &tmp);
    if (fe_is_zero(&den)) return 0;
    /* √s with s = −(u³+7)/den is ±√(−(u³+7)·den)/den */
    fe_mul(&tmp, &u3p7, &den);
    fe_neg(&tmp, &tmp);
    if (!is_square(&tmp)) return 0;
    /* One exponentiation for both: R = tmp^((p−3)/4), w = tmp·R = √tmp, and since tmp = −(u³+7)·den,
     * 1/den = −(u³+7)·R² (tmp and u³+7 are non-zero: x³ + 7 has no root on this curve). */
    fe R, den_inv;
    fe_isqrt(&R, &tmp);
    fe_mul(&w, &tmp, &R);
    if (c & 4) fe_neg(&w, &w);
    fe_sqr(&den_inv, &R);
    fe_mul(&den_inv, &den_inv, &u3p7);
    fe_neg(&den_inv, &den_inv);
    fe t2;
    fe_mul(&t2, &u, &c_inv);
    fe_sub(&t2, &t2, &v);
    fe_mul(&t2, &t2, &w);
    fe_mul(&t2, &t2, &den_inv);
    fe_get_b32(io + 32, &t2);
    return 1;
  }
  fe s, r, inner;
  fe_sub(&s, &x, &u);
  if (fe_is_zero(&s)) return 0;
  /* r = √(−s·(4(u³+7) + 3·s·u²)) */
  fe_mul(&inner, &s, &u2);
  fe_mul_small(&inner, &inner, 3);
  fe_mul_small(&tmp, &u3p7, 4);
  fe_add(&inner, &inner, &tmp);
  fe_mul(&inner, &inner, &s);
  fe_neg(&inner, &inner);
  if (!is_square(&inner)) return 0;
  if (!is_square(&s)) return 0;
  fe_sqrt(&r, &inner);
  if (c & 1) {
    if (fe_is_zero(&r)) return 0;
    fe_neg(&r, &r);
  }
  /* R = s^((p−3)/4): √s = s·R and 1/s = R² (s is a non-zero square), so no division. */
  fe R, inv_2s;
  fe_isqrt(&R, &s);
  fe_mul(&w, &s, &R);
  if (c & 4) fe_neg(&w, &w);
  fe_sqr(&inv_2s, &R);
  fe_mul(&inv_2s, &inv_2s, &half);
  /* u·C − v with v = (r/s − u)/2 is (2s·u·C − r + s·u) / 2s */
  fe two_s, num;
  fe_add(&two_s, &s, &s);
  fe_mul(&num, &u, &c_inv);
  fe_mul(&num, &num, &two_s);
  fe_sub(&num, &num, &r);
  fe_mul(&tmp, &s, &u);
  fe_add(&num, &num, &tmp);
  fe_mul(&num, &num, &w);
  fe_mul(&num, &num, &inv_2s);
  fe_get_b32(io + 32, &num);
  return 1;
}
