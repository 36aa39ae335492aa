/**
 * C source of a small ChaCha20-Poly1305 (RFC 8439), compiled at start-up by bun:ffi's TinyCC
 * (see tcc.ts). Self-contained: no headers, so it compiles inside a `bun build --compile`
 * binary where no C library headers exist. Poly1305 uses five 26-bit limbs with 64-bit products.
 */
export const CHACHA20POLY1305_C_SOURCE = `
typedef unsigned char u8;
typedef unsigned int u32;
typedef unsigned long long u64;

static u32 ld32(const u8 *p) { return (u32)p[0] | ((u32)p[1] << 8) | ((u32)p[2] << 16) | ((u32)p[3] << 24); }
static void st32(u8 *p, u32 v) { p[0] = (u8)v; p[1] = (u8)(v >> 8); p[2] = (u8)(v >> 16); p[3] = (u8)(v >> 24); }

#define ROTL(v, n) (((v) << (n)) | ((v) >> (32 - (n))))
#define QR(a, b, c, d) \\
  a += b; d ^= a; d = ROTL(d, 16); \\
  c += d; b ^= c; b = ROTL(b, 12); \\
  a += b; d ^= a; d = ROTL(d, 8);  \\
  c += d; b ^= c; b = ROTL(b, 7);

static void block(const u8 *key, u32 counter, const u8 *nonce, u8 *out) {
  u32 in[16], x[16];
  int i;
  in[0] = 0x61707865; in[1] = 0x3320646e; in[2] = 0x79622d32; in[3] = 0x6b206574;
  for (i = 0; i < 8; i++) in[4 + i] = ld32(key + 4 * i);
  in[12] = counter;
  in[13] = ld32(nonce); in[14] = ld32(nonce + 4); in[15] = ld32(nonce + 8);
  for (i = 0; i < 16; i++) x[i] = in[i];
  for (i = 0; i < 10; i++) {
    QR(x[0], x[4], x[8], x[12]) QR(x[1], x[5], x[9], x[13]) QR(x[2], x[6], x[10], x[14]) QR(x[3], x[7], x[11], x[15])
    QR(x[0], x[5], x[10], x[15]) QR(x[1], x[6], x[11], x[12]) QR(x[2], x[7], x[8], x[13]) QR(x[3], x[4], x[9], x[14])
  }
  for (i = 0; i < 16; i++) st32(out + 4 * i, x[i] + in[i]);
}

static void xor_stream(const u8 *key, const u8 *nonce, const u8 *src, u32 len, u8 *dst) {
  u8 ks[64];
  u32 pos, i, n, counter = 1;
  for (pos = 0; pos < len; pos += 64) {
    block(key, counter++, nonce, ks);
    n = len - pos < 64 ? len - pos : 64;
    for (i = 0; i < n; i++) dst[pos + i] = src[pos + i] ^ ks[i];
  }
}

typedef struct { u32 r[5], h[5], pad[4]; } poly;

static void poly_init(poly *p, const u8 *k) {
  p->r[0] = ld32(k) & 0x3ffffff;
  p->r[1] = (ld32(k + 3) >> 2) & 0x3ffff03;
  p->r[2] = (ld32(k + 6) >> 4) & 0x3ffc0ff;
  p->r[3] = (ld32(k + 9) >> 6) & 0x3f03fff;
  p->r[4] = (ld32(k + 12) >> 8) & 0x00fffff;
  p->h[0] = p->h[1] = p->h[2] = p->h[3] = p->h[4] = 0;
  p->pad[0] = ld32(k + 16); p->pad[1] = ld32(k + 20); p->pad[2] = ld32(k + 24); p->pad[3] = ld32(k + 28);
}

static void poly_block(poly *p, const u8 *m) {
  u32 r0 = p->r[0], r1 = p->r[1], r2 = p->r[2], r3 = p->r[3], r4 = p->r[4];
  u32 s1 = r1 * 5, s2 = r2 * 5, s3 = r3 * 5, s4 = r4 * 5;
  u32 h0 = p->h[0], h1 = p->h[1], h2 = p->h[2], h3 = p->h[3], h4 = p->h[4];
  u64 d0, d1, d2, d3, d4;
  u32 c;
  h0 += ld32(m) & 0x3ffffff;
  h1 += (ld32(m + 3) >> 2) & 0x3ffffff;
  h2 += (ld32(m + 6) >> 4) & 0x3ffffff;
  h3 += (ld32(m + 9) >> 6) & 0x3ffffff;
  h4 += (ld32(m + 12) >> 8) | (1 << 24);
  d0 = (u64)h0 * r0 + (u64)h1 * s4 + (u64)h2 * s3 + (u64)h3 * s2 + (u64)h4 * s1;
  d1 = (u64)h0 * r1 + (u64)h1 * r0 + (u64)h2 * s4 + (u64)h3 * s3 + (u64)h4 * s2;
  d2 = (u64)h0 * r2 + (u64)h1 * r1 + (u64)h2 * r0 + (u64)h3 * s4 + (u64)h4 * s3;
  d3 = (u64)h0 * r3 + (u64)h1 * r2 + (u64)h2 * r1 + (u64)h3 * r0 + (u64)h4 * s4;
  d4 = (u64)h0 * r4 + (u64)h1 * r3 + (u64)h2 * r2 + (u64)h3 * r1 + (u64)h4 * r0;
  c = (u32)(d0 >> 26); h0 = (u32)d0 & 0x3ffffff; d1 += c;
  c = (u32)(d1 >> 26); h1 = (u32)d1 & 0x3ffffff; d2 += c;
  c = (u32)(d2 >> 26); h2 = (u32)d2 & 0x3ffffff; d3 += c;
  c = (u32)(d3 >> 26); h3 = (u32)d3 & 0x3ffffff; d4 += c;
  c = (u32)(d4 >> 26); h4 = (u32)d4 & 0x3ffffff;
  h0 += c * 5; c = h0 >> 26; h0 &= 0x3ffffff; h1 += c;
  p->h[0] = h0; p->h[1] = h1; p->h[2] = h2; p->h[3] = h3; p->h[4] = h4;
}

static void poly_padded(poly *p, const u8 *m, u32 len) {
  u8 b[16];
  u32 i, pos;
  for (pos = 0; pos + 16 <= len; pos += 16) poly_block(p, m + pos);
  if (pos < len) {
    for (i = 0; i < 16; i++) b[i] = pos + i < len ? m[pos + i] : 0;
    poly_block(p, b);
  }
}

static void poly_finish(poly *p, u32 adlen, u32 ctlen, u8 *tag) {
  u8 b[16];
  u32 h0, h1, h2, h3, h4, g0, g1, g2, g3, g4, c, mask, i;
  u64 f;
  for (i = 0; i < 16; i++) b[i] = 0;
  st32(b, adlen); st32(b + 8, ctlen);
  poly_block(p, b);
  h0 = p->h[0]; h1 = p->h[1]; h2 = p->h[2]; h3 = p->h[3]; h4 = p->h[4];
  /* carry until every limb is below 2^26 */
  do {
    c = h0 >> 26; h0 &= 0x3ffffff; h1 += c;
    c = h1 >> 26; h1 &= 0x3ffffff; h2 += c;
    c = h2 >> 26; h2 &= 0x3ffffff; h3 += c;
    c = h3 >> 26; h3 &= 0x3ffffff; h4 += c;
    c = h4 >> 26; h4 &= 0x3ffffff; h0 += c * 5;
  } while (c);
  g0 = h0 + 5; c = g0 >> 26; g0 &= 0x3ffffff;
  g1 = h1 + c; c = g1 >> 26; g1 &= 0x3ffffff;
  g2 = h2 + c; c = g2 >> 26; g2 &= 0x3ffffff;
  g3 = h3 + c; c = g3 >> 26; g3 &= 0x3ffffff;
  g4 = h4 + c - (1 << 26);
  mask = (g4 >> 31) - 1; /* all ones when h >= p */
  h0 = (h0 & ~mask) | (g0 & mask); h1 = (h1 & ~mask) | (g1 & mask); h2 = (h2 & ~mask) | (g2 & mask);
  h3 = (h3 & ~mask) | (g3 & mask); h4 = (h4 & ~mask) | (g4 & mask);
  h0 = h0 | (h1 << 26); h1 = (h1 >> 6) | (h2 << 20); h2 = (h2 >> 12) | (h3 << 14); h3 = (h3 >> 18) | (h4 << 8);
  f = (u64)h0 + p->pad[0]; st32(tag, (u32)f);
  f = (u64)h1 + p->pad[1] + (f >> 32); st32(tag + 4, (u32)f);
  f = (u64)h2 + p->pad[2] + (f >> 32); st32(tag + 8, (u32)f);
  f = (u64)h3 + p->pad[3] + (f >> 32); st32(tag + 12, (u32)f);
}

static void poly_of(const u8 *key, const u8 *nonce, const u8 *ad, u32 adlen, const u8 *ct, u32 ctlen, u8 *tag) {
  u8 otk[64];
  poly p;
  block(key, 0, nonce, otk);
  poly_init(&p, otk);
  if (adlen) poly_padded(&p, ad, adlen);
  poly_padded(&p, ct, ctlen);
  poly_finish(&p, adlen, ctlen, tag);
}

int sv2_aead_seal(u8 *dst, const u8 *src, u32 len, const u8 *ad, u32 adlen, const u8 *nonce, const u8 *key) {
  xor_stream(key, nonce, src, len, dst);
  poly_of(key, nonce, ad, adlen, dst, len, dst + len);
  return 0;
}

int sv2_aead_open(u8 *dst, const u8 *src, u32 len, const u8 *ad, u32 adlen, const u8 *nonce, const u8 *key) {
  u8 tag[16];
  u32 i, diff = 0, ctlen;
  if (len < 16) return -1;
  ctlen = len - 16;
  poly_of(key, nonce, ad, adlen, src, ctlen, tag);
  for (i = 0; i < 16; i++) diff |= tag[i] ^ src[ctlen + i];
  if (diff) return -1;
  xor_stream(key, nonce, src, ctlen, dst);
  return 0;
}
`;
