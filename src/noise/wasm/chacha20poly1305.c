/*
 * ChaCha20-Poly1305 (RFC 8439 §2.8) for the Noise transport, compiled to WebAssembly by
 * scripts/build-wasm.sh. Written for sv2pool from the RFC; ../chacha20poly1305.ts is the pure
 * TypeScript version of the same construction, and test/noise/aead.test.ts checks both against the
 * RFC's vector and @noble/ciphers.
 *
 * Why: a share-sized SV2 frame is two AEAD messages (header and payload), each needing two ChaCha
 * blocks and a few Poly1305 blocks; in JavaScript the 32-bit rotations and the 130-bit
 * multiplications cost several microseconds per frame, in WebAssembly about a third of that.
 *
 * The caller copies key, nonce, associated data and the message into `buf` and gets the result in
 * place. No branch or memory index depends on secret data (the tag comparison is constant-time).
 */
#include <stdint.h>

typedef uint64_t u64;
typedef uint32_t u32;
typedef int32_t i32;
typedef uint8_t u8;

/* buf: [0,32) key, [32,44) nonce, [64, 64+4096) associated data (Noise uses 32 bytes: h),
 * [4160, 4160+65536+16) message. */
#define KEY 0
#define NONCE 32
#define AD 64
#define AD_MAX 4096
#define MSG (AD + AD_MAX)
#define MSG_MAX (65536 + 16)
static u8 buf[MSG + MSG_MAX];

u8 *buf_ptr(void) { return buf; }

/* WebAssembly is little-endian and allows unaligned access: one load or store per word. */
typedef u32 __attribute__((aligned(1), may_alias)) u32_unaligned;
static u32 load32(const u8 *p) { return *(const u32_unaligned *)p; }
static void store32(u8 *p, u32 v) { *(u32_unaligned *)p = v; }

static u32 rotl(u32 v, int c) { return (v << c) | (v >> (32 - c)); }

#define QUARTER(a, b, c, d) \
  a += b; d ^= a; d = rotl(d, 16); \
  c += d; b ^= c; b = rotl(b, 12); \
  a += b; d ^= a; d = rotl(d, 8); \
  c += d; b ^= c; b = rotl(b, 7);

/* One 64-byte ChaCha20 block for (key, counter, nonce), as little-endian bytes. */
static void chacha_block(const u32 *key, u32 counter, const u32 *nonce, u8 *out) {
  u32 s[16] = {0x61707865u, 0x3320646eu, 0x79622d32u, 0x6b206574u, key[0], key[1], key[2], key[3],
               key[4], key[5], key[6], key[7], counter, nonce[0], nonce[1], nonce[2]};
  u32 x[16];
  for (int i = 0; i < 16; i++) x[i] = s[i];
  for (int i = 0; i < 10; i++) {
    QUARTER(x[0], x[4], x[8], x[12]);
    QUARTER(x[1], x[5], x[9], x[13]);
    QUARTER(x[2], x[6], x[10], x[14]);
    QUARTER(x[3], x[7], x[11], x[15]);
    QUARTER(x[0], x[5], x[10], x[15]);
    QUARTER(x[1], x[6], x[11], x[12]);
    QUARTER(x[2], x[7], x[8], x[13]);
    QUARTER(x[3], x[4], x[9], x[14]);
  }
  for (int i = 0; i < 16; i++) store32(out + 4 * i, x[i] + s[i]);
}

/* XORs len bytes at m with the key stream from block 1 on (whole words, then the tail bytes). */
static void chacha_xor(const u32 *key, const u32 *nonce, u8 *m, u32 len) {
  u8 ks[64];
  u32 counter = 1;
  for (u32 pos = 0; pos < len; pos += 64) {
    chacha_block(key, counter++, nonce, ks);
    u32 n = len - pos < 64 ? len - pos : 64;
    u32 i = 0;
    for (; i + 4 <= n; i += 4) store32(m + pos + i, load32(m + pos + i) ^ load32(ks + i));
    for (; i < n; i++) m[pos + i] ^= ks[i];
  }
}

/* Poly1305 over 2^130 − 5 in five 26-bit limbs; products fit in 64 bits. */
typedef struct {
  u32 r[5], h[5], pad[4];
} poly;

static void poly_init(poly *p, const u8 *otk) {
  /* r is the first 16 bytes with the RFC's clamp: top 4 bits of bytes 3, 7, 11, 15 and the low 2 of 4, 8, 12 cleared. */
  u8 r[16];
  for (int i = 0; i < 16; i++) r[i] = otk[i];
  r[3] &= 15; r[7] &= 15; r[11] &= 15; r[15] &= 15;
  r[4] &= 252; r[8] &= 252; r[12] &= 252;
  u64 lo = (u64)load32(r) | ((u64)load32(r + 4) << 32);
  u64 hi = (u64)load32(r + 8) | ((u64)load32(r + 12) << 32);
  p->r[0] = (u32)(lo & 0x3ffffff);
  p->r[1] = (u32)((lo >> 26) & 0x3ffffff);
  p->r[2] = (u32)(((lo >> 52) | (hi << 12)) & 0x3ffffff);
  p->r[3] = (u32)((hi >> 14) & 0x3ffffff);
  p->r[4] = (u32)(hi >> 40);
  for (int i = 0; i < 5; i++) p->h[i] = 0;
  for (int i = 0; i < 4; i++) p->pad[i] = load32(otk + 16 + 4 * i);
}

/* Absorbs 16-byte blocks, each with the 2^128 bit (the AEAD pads every part to whole blocks). */
static void poly_blocks(poly *p, const u8 *m, u32 len) {
  const u64 r0 = p->r[0], r1 = p->r[1], r2 = p->r[2], r3 = p->r[3], r4 = p->r[4];
  const u64 s1 = r1 * 5, s2 = r2 * 5, s3 = r3 * 5, s4 = r4 * 5;
  u64 h0 = p->h[0], h1 = p->h[1], h2 = p->h[2], h3 = p->h[3], h4 = p->h[4];
  for (u32 o = 0; o < len; o += 16) {
    u64 lo = (u64)load32(m + o) | ((u64)load32(m + o + 4) << 32);
    u64 hi = (u64)load32(m + o + 8) | ((u64)load32(m + o + 12) << 32);
    h0 += lo & 0x3ffffff;
    h1 += (lo >> 26) & 0x3ffffff;
    h2 += ((lo >> 52) | (hi << 12)) & 0x3ffffff;
    h3 += (hi >> 14) & 0x3ffffff;
    h4 += (hi >> 40) | (1u << 24);
    /* h·r mod 2^130 − 5: limbs wrapping past 2^130 come back times 5. */
    u64 d0 = h0 * r0 + h1 * s4 + h2 * s3 + h3 * s2 + h4 * s1;
    u64 d1 = h0 * r1 + h1 * r0 + h2 * s4 + h3 * s3 + h4 * s2;
    u64 d2 = h0 * r2 + h1 * r1 + h2 * r0 + h3 * s4 + h4 * s3;
    u64 d3 = h0 * r3 + h1 * r2 + h2 * r1 + h3 * r0 + h4 * s4;
    u64 d4 = h0 * r4 + h1 * r3 + h2 * r2 + h3 * r1 + h4 * r0;
    u64 c = d0 >> 26; h0 = d0 & 0x3ffffff; d1 += c;
    c = d1 >> 26; h1 = d1 & 0x3ffffff; d2 += c;
    c = d2 >> 26; h2 = d2 & 0x3ffffff; d3 += c;
    c = d3 >> 26; h3 = d3 & 0x3ffffff; d4 += c;
    c = d4 >> 26; h4 = d4 & 0x3ffffff; h0 += c * 5;
    c = h0 >> 26; h0 &= 0x3ffffff; h1 += c;
  }
  p->h[0] = (u32)h0; p->h[1] = (u32)h1; p->h[2] = (u32)h2; p->h[3] = (u32)h3; p->h[4] = (u32)h4;
}

/* len bytes, zero-padded to whole blocks. */
static void poly_padded(poly *p, const u8 *m, u32 len) {
  u32 full = len & ~15u;
  if (full > 0) poly_blocks(p, m, full);
  if (len > full) {
    u8 last[16] = {0};
    for (u32 i = 0; i < len - full; i++) last[i] = m[full + i];
    poly_blocks(p, last, 16);
  }
}

/* (h mod 2^130 − 5) + pad mod 2^128, as 16 little-endian bytes. */
static void poly_tag(poly *p, u8 *out) {
  u32 h0 = p->h[0], h1 = p->h[1], h2 = p->h[2], h3 = p->h[3], h4 = p->h[4];
  u32 c = h1 >> 26; h1 &= 0x3ffffff; h2 += c;
  c = h2 >> 26; h2 &= 0x3ffffff; h3 += c;
  c = h3 >> 26; h3 &= 0x3ffffff; h4 += c;
  c = h4 >> 26; h4 &= 0x3ffffff; h0 += c * 5;
  c = h0 >> 26; h0 &= 0x3ffffff; h1 += c;
  /* That last carry can leave h1 at exactly 2^26: carry once more up to h4 so every limb but h4 is
   * below 2^26 (h4 may reach 2^26, which means h ≥ p, and the subtraction below is then taken). */
  c = h1 >> 26; h1 &= 0x3ffffff; h2 += c;
  c = h2 >> 26; h2 &= 0x3ffffff; h3 += c;
  c = h3 >> 26; h3 &= 0x3ffffff; h4 += c;
  /* g = h + 5 − 2^130: taken when it does not borrow, i.e. when h ≥ p. */
  u32 g0 = h0 + 5; c = g0 >> 26; g0 &= 0x3ffffff;
  u32 g1 = h1 + c; c = g1 >> 26; g1 &= 0x3ffffff;
  u32 g2 = h2 + c; c = g2 >> 26; g2 &= 0x3ffffff;
  u32 g3 = h3 + c; c = g3 >> 26; g3 &= 0x3ffffff;
  u32 g4 = h4 + c - (1u << 26);
  u32 mask = (g4 >> 31) - 1; /* all ones when g4 did not go negative */
  h0 = (h0 & ~mask) | (g0 & mask);
  h1 = (h1 & ~mask) | (g1 & mask);
  h2 = (h2 & ~mask) | (g2 & mask);
  h3 = (h3 & ~mask) | (g3 & mask);
  h4 = (h4 & ~mask) | (g4 & mask);
  u64 w0 = ((u64)h0 | ((u64)h1 << 26)) & 0xffffffffu;
  u64 w1 = (((u64)h1 >> 6) | ((u64)h2 << 20)) & 0xffffffffu;
  u64 w2 = (((u64)h2 >> 12) | ((u64)h3 << 14)) & 0xffffffffu;
  u64 w3 = (((u64)h3 >> 18) | ((u64)h4 << 8)) & 0xffffffffu;
  u64 f = w0 + p->pad[0];
  store32(out, (u32)f);
  f = w1 + p->pad[1] + (f >> 32);
  store32(out + 4, (u32)f);
  f = w2 + p->pad[2] + (f >> 32);
  store32(out + 8, (u32)f);
  f = w3 + p->pad[3] + (f >> 32);
  store32(out + 12, (u32)f);
}

static void setup(u32 *key, u32 *nonce, poly *p) {
  for (int i = 0; i < 8; i++) key[i] = load32(buf + KEY + 4 * i);
  for (int i = 0; i < 3; i++) nonce[i] = load32(buf + NONCE + 4 * i);
  u8 otk[64];
  chacha_block(key, 0, nonce, otk);
  poly_init(p, otk);
}

static void mac(poly *p, u32 ad_len, const u8 *ct, u32 ct_len, u8 *tag) {
  if (ad_len > 0) poly_padded(p, buf + AD, ad_len);
  poly_padded(p, ct, ct_len);
  u8 lengths[16];
  store32(lengths, ad_len);
  store32(lengths + 4, 0);
  store32(lengths + 8, ct_len);
  store32(lengths + 12, 0);
  poly_blocks(p, lengths, 16);
  poly_tag(p, tag);
}

/* Encrypts buf[MSG, MSG+len) in place and appends the tag. Returns 0 when a length is out of range. */
i32 seal(u32 len, u32 ad_len) {
  if (len > MSG_MAX - 16 || ad_len > AD_MAX) return 0;
  u32 key[8], nonce[3];
  poly p;
  setup(key, nonce, &p);
  chacha_xor(key, nonce, buf + MSG, len);
  mac(&p, ad_len, buf + MSG, len, buf + MSG + len);
  return 1;
}

/* Checks the tag of buf[MSG, MSG+len) (len includes it) and decrypts in place; 0 when it is wrong. */
i32 open(u32 len, u32 ad_len) {
  if (len < 16 || len > MSG_MAX || ad_len > AD_MAX) return 0;
  u32 key[8], nonce[3];
  poly p;
  setup(key, nonce, &p);
  u32 ct_len = len - 16;
  u8 tag[16];
  mac(&p, ad_len, buf + MSG, ct_len, tag);
  u32 diff = 0;
  for (int i = 0; i < 16; i++) diff |= (u32)(tag[i] ^ buf[MSG + ct_len + i]);
  if (diff != 0) return 0;
  chacha_xor(key, nonce, buf + MSG, ct_len);
  return 1;
}
