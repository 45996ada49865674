/*
 * ssh-to-age's batch conversion of Ed25519 public keys (compressed Edwards points) to X25519
 * public keys (Montgomery u), with OpenSSL's BIGNUM functions that the node binary exports (no
 * field arithmetic of our own). The acceptance rules are those of filippo.io/edwards25519
 * `Point.SetBytes` + `BytesMontgomery`, which the reference ssh-to-age uses (the same rules as
 * src/ssh/montgomery.ts, which tests compare this with):
 * - the sign bit is ignored and y ≥ p is taken mod p;
 * - the encoding is valid iff (y² − 1)(d·y² + 1) is a square mod p (Kronecker symbol 0 or 1);
 * - u = (1 + y) / (1 − y), where 1/0 is taken as 0 (y = 1 gives u = 0).
 *
 * edwardsToMontgomery(keys, us, valid): keys holds n packed 32-byte keys (n ≤ MAX_BATCH = 8192); us
 * receives n packed 32-byte little-endian u values (zero where invalid), valid one byte per key
 * (1 valid, 0 not). Returns the number of valid keys. Throws when an OpenSSL call fails.
 */
#include <node_api.h>
#include <openssl/bn.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "napi_args.h"

/* Keys per call: bounds the scratch memory (three numbers a key). */
#define MAX_BATCH 8192
#define MAX_BATCH_TEXT "8192"

/* p = 2^255 − 19 and d = −121665/121666 mod p (RFC 8032 §5.1), big-endian. */
static const unsigned char P_BE[32] = {
  0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xed,
};
static const unsigned char D_BE[32] = {
  0x52, 0x03, 0x6c, 0xee, 0x2b, 0x6f, 0xfe, 0x73, 0x8c, 0xc7, 0x40, 0x79, 0x77, 0x79, 0xe8, 0x98,
  0x00, 0x70, 0x0a, 0x4d, 0x41, 0x41, 0xd8, 0xab, 0x75, 0xeb, 0x4d, 0xca, 0x13, 0x59, 0x78, 0xa3,
};

static napi_value fail(napi_env env, const char *code, const char *msg) {
  napi_throw_error(env, code, msg);
  return NULL;
}

/* Scratch numbers for one call; every pointer is NULL or owned. */
struct batch {
  BN_CTX *ctx;
  BN_MONT_CTX *mont;
  BIGNUM **ym;     /* y in Montgomery form, per key */
  BIGNUM **den;    /* 1 − y (Montgomery form; 1 where it is 0 or the key is invalid) */
  BIGNUM **prefix; /* den[0]·…·den[i] */
  size_t n;
};

static void batch_free(struct batch *b) {
  for (size_t i = 0; i < b->n; i++) {
    if (b->ym) BN_free(b->ym[i]);
    if (b->den) BN_free(b->den[i]);
    if (b->prefix) BN_free(b->prefix[i]);
  }
  free(b->ym);
  free(b->den);
  free(b->prefix);
  BN_MONT_CTX_free(b->mont);
  if (b->ctx) BN_CTX_end(b->ctx);
  BN_CTX_free(b->ctx);
}

static BIGNUM **bn_array(size_t n) {
  BIGNUM **a = calloc(n ? n : 1, sizeof *a);
  for (size_t i = 0; a && i < n; i++) {
    if (!(a[i] = BN_new())) {
      while (i--) BN_free(a[i]);
      free(a);
      return NULL;
    }
  }
  return a;
}

/*
 * The conversion, in Montgomery form (BN_mod_mul_montgomery): validity by the Kronecker symbol
 * of (y² − 1)(d·y² + 1), then every 1 − y inverted at once (Montgomery's trick: one
 * BN_mod_inverse per call). Returns the number of valid keys, or −1 when OpenSSL fails.
 */
static long convert(const unsigned char *keys, unsigned char *us, unsigned char *valid, size_t n) {
  struct batch b = {0};
  long count = -1;
  b.ctx = BN_CTX_new();
  if (!b.ctx) return -1;
  BN_CTX_start(b.ctx);
  BIGNUM *p = BN_CTX_get(b.ctx), *one = BN_CTX_get(b.ctx), *d = BN_CTX_get(b.ctx), *y = BN_CTX_get(b.ctx);
  BIGNUM *t = BN_CTX_get(b.ctx), *num = BN_CTX_get(b.ctx), *w = BN_CTX_get(b.ctx), *inv = BN_CTX_get(b.ctx);
  /* once BN_CTX_get fails, every later call returns NULL too: checking the last one suffices */
  if (!inv || !BN_bin2bn(P_BE, 32, p) || !BN_bin2bn(D_BE, 32, d)) goto done;
  if (!(b.mont = BN_MONT_CTX_new()) || !BN_MONT_CTX_set(b.mont, p, b.ctx)) goto done;
  if (!BN_to_montgomery(one, BN_value_one(), b.mont, b.ctx) || !BN_to_montgomery(d, d, b.mont, b.ctx)) goto done;
  b.n = n;
  if (!(b.ym = bn_array(n)) || !(b.den = bn_array(n)) || !(b.prefix = bn_array(n))) goto done;

  long valid_count = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char le[32];
    memcpy(le, keys + 32 * i, 32);
    le[31] &= 0x7f; /* the sign bit of x */
    if (!BN_lebin2bn(le, 32, y)) goto done;
    if (BN_cmp(y, p) >= 0 && !BN_sub(y, y, p)) goto done; /* y < 2^255 < 2p */
    BIGNUM *ym = b.ym[i];
    if (!BN_to_montgomery(ym, y, b.mont, b.ctx)) goto done;
    if (!BN_mod_mul_montgomery(t, ym, ym, b.mont, b.ctx)) goto done;                     /* y² */
    if (!BN_mod_sub_quick(num, t, one, p)) goto done;                                       /* y² − 1 */
    if (!BN_mod_mul_montgomery(t, d, t, b.mont, b.ctx) || !BN_mod_add_quick(t, t, one, p)) goto done; /* d·y² + 1 */
    if (!BN_mod_mul_montgomery(w, num, t, b.mont, b.ctx) || !BN_from_montgomery(w, w, b.mont, b.ctx)) goto done;
    int k = BN_kronecker(w, p, b.ctx);
    if (k == -2) goto done;
    valid[i] = k >= 0;
    valid_count += valid[i];
    /* 1 − y, or 1 where there is nothing to invert */
    if (!valid[i] || BN_cmp(ym, one) == 0) {
      if (!BN_copy(b.den[i], one)) goto done;
    } else if (!BN_mod_sub_quick(b.den[i], one, ym, p)) goto done;
    if (!(i == 0 ? BN_copy(b.prefix[i], b.den[i]) != NULL : BN_mod_mul_montgomery(b.prefix[i], b.prefix[i - 1], b.den[i], b.mont, b.ctx))) goto done;
  }
  if (n > 0) {
    /* inv = 1 / (den[0]·…·den[n−1]), in Montgomery form */
    if (!BN_from_montgomery(inv, b.prefix[n - 1], b.mont, b.ctx) || !BN_mod_inverse(inv, inv, p, b.ctx)) goto done;
    if (!BN_to_montgomery(inv, inv, b.mont, b.ctx)) goto done;
  }
  for (size_t i = n; i-- > 0;) {
    unsigned char *u = us + 32 * i;
    /* t = 1 / den[i]; then inv = 1 / (den[0]·…·den[i−1]) */
    if (i > 0) {
      if (!BN_mod_mul_montgomery(t, inv, b.prefix[i - 1], b.mont, b.ctx) || !BN_mod_mul_montgomery(inv, inv, b.den[i], b.mont, b.ctx)) goto done;
    } else if (!BN_copy(t, inv)) goto done;
    if (!valid[i] || BN_cmp(b.ym[i], one) == 0) {
      memset(u, 0, 32); /* invalid, or y = 1: u = 1/0 = 0 */
      continue;
    }
    if (!BN_mod_add_quick(num, one, b.ym[i], p) || !BN_mod_mul_montgomery(num, num, t, b.mont, b.ctx)) goto done;
    if (!BN_from_montgomery(num, num, b.mont, b.ctx) || BN_bn2lebinpad(num, u, 32) != 32) goto done;
  }
  count = valid_count;
done:
  batch_free(&b);
  return count;
}

static napi_value edwards_to_montgomery(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return fail(env, "KEYBRIDGE_NATIVE", "N-API call failed: napi_get_cb_info");
  unsigned char *keys, *us, *valid;
  size_t keys_len, us_len, valid_len;
  if (argc < 3 || !uint8_arg(env, argv[0], &keys, &keys_len) || !uint8_arg(env, argv[1], &us, &us_len) || !uint8_arg(env, argv[2], &valid, &valid_len)) {
    napi_throw_type_error(env, "EINVAL", "edwardsToMontgomery(keys, us, valid): three Uint8Arrays expected");
    return NULL;
  }
  if (keys_len % 32 != 0) return fail(env, "EINVAL", "edwardsToMontgomery: keys must be packed 32-byte keys");
  size_t n = keys_len / 32;
  if (n > MAX_BATCH) return fail(env, "EINVAL", "edwardsToMontgomery: at most " MAX_BATCH_TEXT " keys per call");
  if (us_len < 32 * n || valid_len < n) return fail(env, "EINVAL", "edwardsToMontgomery: output arrays too short");
  long count = convert(keys, us, valid, n);
  if (count < 0) return fail(env, "KEYBRIDGE_OPENSSL", "edwardsToMontgomery: an OpenSSL BIGNUM operation failed");
  napi_value result;
  if (napi_create_uint32(env, (uint32_t)count, &result) != napi_ok) return fail(env, "KEYBRIDGE_NATIVE", "N-API call failed: napi_create_uint32");
  return result;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  if (napi_create_function(env, "edwardsToMontgomery", NAPI_AUTO_LENGTH, edwards_to_montgomery, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "edwardsToMontgomery", fn) != napi_ok) return NULL;
  return exports;
}
