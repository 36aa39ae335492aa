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
#include <wasm_simd128.h>

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

/*
 * ChaCha20 in 128-bit SIMD, one block as four row vectors (constants, key, key, counter‖nonce): a
 * column round is one quarter round on the rows, a diagonal round the same after rotating rows 1–3.
 * Two blocks are interleaved, which is what a share-sized Noise message needs (block 0 for the
 * Poly1305 key, block 1 for up to 64 bytes). Measured in JavaScriptCore: two blocks ~230 ns, where
 * the scalar code took ~300–400 ns per block and four blocks in lanes (one state word per vector)
 * ~650 ns, its sixteen vectors spilling out of registers.
 */
typedef struct {
  u32 counter, n0, n1, n2;
} row3;

#define ROTL(v, c) wasm_v128_or(wasm_i32x4_shl((v), (c)), wasm_u32x4_shr((v), 32 - (c)))
/* Rotations by 16 and 8 move whole bytes: one shuffle instead of two shifts and an or. */
#define ROTL16(v) wasm_i8x16_shuffle((v), (v), 2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13)
#define ROTL8(v) wasm_i8x16_shuffle((v), (v), 3, 0, 1, 2, 7, 4, 5, 6, 11, 8, 9, 10, 15, 12, 13, 14)
#define QUARTER(a, b, c, d) \
  a = wasm_i32x4_add(a, b); d = wasm_v128_xor(d, a); d = ROTL16(d); \
  c = wasm_i32x4_add(c, d); b = wasm_v128_xor(b, c); b = ROTL(b, 12); \
  a = wasm_i32x4_add(a, b); d = wasm_v128_xor(d, a); d = ROTL8(d); \
  c = wasm_i32x4_add(c, d); b = wasm_v128_xor(b, c); b = ROTL(b, 7);
/* Rows 1, 2, 3 rotated left by 1, 2, 3 words put the diagonals in columns; UNDIAG puts them back. */
#define DIAG(x1, x2, x3) \
  x1 = wasm_i32x4_shuffle(x1, x1, 1, 2, 3, 0); x2 = wasm_i32x4_shuffle(x2, x2, 2, 3, 0, 1); x3 = wasm_i32x4_shuffle(x3, x3, 3, 0, 1, 2);
#define UNDIAG(x1, x2, x3) \
  x1 = wasm_i32x4_shuffle(x1, x1, 3, 0, 1, 2); x2 = wasm_i32x4_shuffle(x2, x2, 2, 3, 0, 1); x3 = wasm_i32x4_shuffle(x3, x3, 1, 2, 3, 0);
#define STORE_BLOCK(out, x0, x1, x2, x3, s3) \
  wasm_v128_store(out, wasm_i32x4_add(x0, r0)); wasm_v128_store(out + 16, wasm_i32x4_add(x1, r1)); \
  wasm_v128_store(out + 32, wasm_i32x4_add(x2, r2)); wasm_v128_store(out + 48, wasm_i32x4_add(x3, s3));

/* Blocks a and b (b may repeat a when only one is wanted) for the key at k (8 words). */
static void chacha2(const u32 *k, const row3 *a, const row3 *b, u8 *out_a, u8 *out_b) {
  const v128_t r0 = wasm_i32x4_make(0x61707865u, 0x3320646eu, 0x79622d32u, 0x6b206574u);
  const v128_t r1 = wasm_v128_load(k), r2 = wasm_v128_load(k + 4);
  const v128_t sa = wasm_v128_load(a), sb = wasm_v128_load(b);
  v128_t a0 = r0, a1 = r1, a2 = r2, a3 = sa, b0 = r0, b1 = r1, b2 = r2, b3 = sb;
  for (int i = 0; i < 10; i++) {
    QUARTER(a0, a1, a2, a3);
    QUARTER(b0, b1, b2, b3);
    DIAG(a1, a2, a3);
    DIAG(b1, b2, b3);
    QUARTER(a0, a1, a2, a3);
    QUARTER(b0, b1, b2, b3);
    UNDIAG(a1, a2, a3);
    UNDIAG(b1, b2, b3);
  }
  STORE_BLOCK(out_a, a0, a1, a2, a3, sa);
  STORE_BLOCK(out_b, b0, b1, b2, b3, sb);
}

/* Key stream of the current call: block 0 (Poly1305 key) then one block per 64 message bytes. */
#define KS_BLOCKS (MSG_MAX / 64 + 2)
static u8 ks[KS_BLOCKS * 64];

/* Fills ks with blocks [0, nblocks) for (key, nonce), two at a time. */
static void keystream(const u32 *key, const u32 *nonce, u32 nblocks) {
  for (u32 c = 0; c < nblocks; c += 2) {
    row3 a = {c, nonce[0], nonce[1], nonce[2]};
    row3 b = {c + 1, nonce[0], nonce[1], nonce[2]};
    /* An odd last block computes block c twice rather than write past ks. */
    chacha2(key, &a, c + 1 < nblocks ? &b : &a, ks + 64 * c, c + 1 < nblocks ? ks + 64 * (c + 1) : ks + 64 * c);
  }
}

/* XORs len bytes at m with the message key stream (ks from block 1 on). */
static void xor_stream(u8 *m, u32 len) {
  const u8 *k = ks + 64;
  u32 i = 0;
  for (; i + 16 <= len; i += 16) wasm_v128_store(m + i, wasm_v128_xor(wasm_v128_load(m + i), wasm_v128_load(k + i)));
  for (; i < len; i++) m[i] ^= k[i];
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

static void load_key_nonce(u32 *key, u32 *nonce) {
  for (int i = 0; i < 8; i++) key[i] = load32(buf + KEY + 4 * i);
  for (int i = 0; i < 3; i++) nonce[i] = load32(buf + NONCE + 4 * i);
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

/* The Noise nonce after this one: the counter is the little-endian u64 in bytes 4..11 (words 1, 2). */
static void next_nonce(u32 *nonce) {
  nonce[1] += 1;
  nonce[2] += nonce[1] == 0;
}

/* Encrypts len bytes at m in place and writes the tag after them. */
static void seal_at(const u32 *key, const u32 *nonce, u8 *m, u32 len, u32 ad_len) {
  poly p;
  keystream(key, nonce, 1 + (len + 63) / 64);
  poly_init(&p, ks);
  xor_stream(m, len);
  mac(&p, ad_len, m, len, m + len);
}

/* Encrypts buf[MSG, MSG+len) in place and appends the tag. Returns 0 when a length is out of range. */
i32 seal(u32 len, u32 ad_len) {
  if (len > MSG_MAX - 16 || ad_len > AD_MAX) return 0;
  u32 key[8], nonce[3];
  load_key_nonce(key, nonce);
  seal_at(key, nonce, buf + MSG, len, ad_len);
  return 1;
}

/*
 * Seals two messages in one call, with the nonce in buf and the one after it, no associated data:
 * buf[MSG, +len_a) and buf[MSG + len_a + 16, +len_b), each followed by its tag. That is the wire
 * layout of an SV2 frame's header and payload, so the caller copies a frame in and out once.
 */
i32 seal2(u32 len_a, u32 len_b) {
  if (len_a > MSG_MAX - 32 || len_b > MSG_MAX - 32 - len_a) return 0;
  u32 key[8], nonce[3];
  load_key_nonce(key, nonce);
  seal_at(key, nonce, buf + MSG, len_a, 0);
  next_nonce(nonce);
  seal_at(key, nonce, buf + MSG + len_a + 16, len_b, 0);
  return 1;
}

/* Checks the tag of the len bytes at m (len includes it) and decrypts them in place; 0 when it is wrong. */
static i32 open_at(const u32 *key, const u32 *nonce, u8 *m, u32 len, u32 ad_len) {
  u32 ct_len = len - 16;
  keystream(key, nonce, 1 + (ct_len + 63) / 64);
  poly p;
  poly_init(&p, ks);
  u8 tag[16];
  mac(&p, ad_len, m, ct_len, tag);
  u32 diff = 0;
  for (int i = 0; i < 16; i++) diff |= (u32)(tag[i] ^ m[ct_len + i]);
  if (diff != 0) return 0;
  xor_stream(m, ct_len);
  return 1;
}

/* Checks the tag of buf[MSG, MSG+len) (len includes it) and decrypts in place; 0 when it is wrong. */
i32 open(u32 len, u32 ad_len) {
  if (len < 16 || len > MSG_MAX || ad_len > AD_MAX) return 0;
  u32 key[8], nonce[3];
  load_key_nonce(key, nonce);
  return open_at(key, nonce, buf + MSG, len, ad_len);
}

/*
 * Opens an SV2 frame from its first avail wire bytes at buf[MSG]: the 6-byte header sealed alone
 * (22 bytes) with the nonce in buf, then, when all of it is there and it is 1..max_payload bytes,
 * the payload (msg_length + 16 bytes, one Noise message) with the next nonce; both in place.
 * Returns -1 when a tag is wrong, else 2 * msg_length, plus 1 when the payload was opened too.
 */
i32 open_frame(u32 avail, u32 max_payload) {
  if (avail < 22 || avail > MSG_MAX) return -1;
  u32 key[8], nonce[3];
  load_key_nonce(key, nonce);
  if (!open_at(key, nonce, buf + MSG, 22, 0)) return -1;
  u32 len = (u32)buf[MSG + 3] | ((u32)buf[MSG + 4] << 8) | ((u32)buf[MSG + 5] << 16);
  if (len == 0 || len > max_payload || len > 65519 || 22 + len + 16 > avail) return (i32)(2 * len);
  next_nonce(nonce);
  if (!open_at(key, nonce, buf + MSG + 22, len + 16, 0)) return -1;
  return (i32)(2 * len + 1);
}
