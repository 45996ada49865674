/*
 * The few crypto operations of the age plugins' one-shot protocol runs and of ssh-to-age
 * `-private-key`, on the OpenSSL that the node binary contains and exports (OpenSSL 3 EVP and
 * EC_POINT functions; nothing is computed here but by OpenSSL). A one-shot process that calls
 * these does not load node:crypto (node's stream modules, KeyObject machinery), which costs
 * milliseconds of its start. src/openssl.ts loads this addon and falls back to node:crypto with
 * the same results when it is not built.
 *
 * Every function takes and returns Uint8Arrays (returned arrays are fresh copies):
 * - p256Convert(point, compressed): a SEC1 point, 33 bytes 02/03 ‖ X or 65 bytes 04 ‖ X ‖ Y only
 *   (not the hybrid 06/07 form, not the identity), with coordinates below p, on the curve,
 *   returned compressed or uncompressed; null when it is not such a point.
 * - p256Ecdh(peer, compressed, scalar?): ECDH with a fresh key from OpenSSL's key generation (or
 *   the 32-byte scalar, 0 < scalar < n, for test vectors) towards a point p256Convert accepts:
 *   { publicKey, shared } (the shared x-coordinate, 32 bytes); null when peer is not a point.
 * - x25519(peer, scalar?): X25519 with a fresh key (or the 32-byte scalar) towards the 32-byte
 *   peer: { publicKey, shared }; null when the output is all zero (a low-order peer).
 * - x25519PublicKey(scalar), ed25519PublicKey(seed): the 32-byte public key of a private key.
 * - hkdfSha256(ikm, salt, info, length) (RFC 5869 extract and expand, length ≤ 8160),
 *   hkdfExtractSha256(salt, ikm), hmacSha256(key, data), sha256(data), sha512(data).
 * - chacha20Poly1305Seal(key, nonce, plaintext, aad?) → ciphertext ‖ 16-byte tag;
 *   chacha20Poly1305Open(key, nonce, sealed, aad?) → plaintext, null when the tag is wrong.
 * - readFile(path, maxBytes): the bytes of a regular file of at most maxBytes, null when it is
 *   missing, not a regular file, larger or unreadable: how the plugins' loaders (scripts/build.mjs)
 *   read their V8 code caches (node's readFileSync of a binary file runs a dozen of node's fs
 *   functions, compiled at every start; the plugins open this addon anyway).
 * Wrong argument types and lengths throw (TypeError, RangeError); an OpenSSL failure throws an
 * Error with code KEYBRIDGE_OPENSSL. Secrets held here are wiped (OPENSSL_cleanse) before
 * returning, and OpenSSL's error queue is left empty for node.
 */
#include <node_api.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/obj_mac.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "napi_args.h"

/* A stand-in address for empty inputs and outputs (napi_args.h's). */
#define EMPTY napi_args_empty

/* Cipher updates take an int length: longer inputs go in pieces of this size. */
#define PIECE (1 << 30)

static napi_value throw_openssl(napi_env env, const char *what) {
  ERR_clear_error();
  napi_throw_error(env, "KEYBRIDGE_OPENSSL", what);
  return NULL;
}

static napi_value throw_range(napi_env env, const char *msg) {
  napi_throw_range_error(env, "EINVAL", msg);
  return NULL;
}

static napi_value throw_type(napi_env env, const char *msg) {
  napi_throw_type_error(env, "EINVAL", msg);
  return NULL;
}

static napi_value null_value(napi_env env) {
  napi_value v = NULL;
  ERR_clear_error();
  napi_get_null(env, &v);
  return v;
}

/* Whether argument i is absent (missing, undefined or null). */
static int absent(napi_env env, size_t argc, napi_value *argv, size_t i) {
  if (i >= argc) return 1;
  napi_valuetype t;
  if (napi_typeof(env, argv[i], &t) != napi_ok) return 0;
  return t == napi_undefined || t == napi_null;
}

/* A new Uint8Array of len bytes; *data points at its bytes. */
static napi_value new_uint8(napi_env env, size_t len, unsigned char **data) {
  napi_value ab, arr;
  void *p = NULL;
  if (napi_create_arraybuffer(env, len, &p, &ab) != napi_ok) return NULL;
  if (napi_create_typedarray(env, napi_uint8_array, len, ab, 0, &arr) != napi_ok) return NULL;
  *data = p ? p : EMPTY;
  return arr;
}

static napi_value copy_uint8(napi_env env, const unsigned char *src, size_t len) {
  unsigned char *dst;
  napi_value v = new_uint8(env, len, &dst);
  if (v && len) memcpy(dst, src, len);
  return v;
}

/* { publicKey, shared } */
static napi_value key_pair_result(napi_env env, const unsigned char *pub, size_t pub_len, const unsigned char *shared, size_t shared_len) {
  napi_value obj, p, s;
  if (napi_create_object(env, &obj) != napi_ok) return NULL;
  if (!(p = copy_uint8(env, pub, pub_len)) || !(s = copy_uint8(env, shared, shared_len))) return NULL;
  if (napi_set_named_property(env, obj, "publicKey", p) != napi_ok || napi_set_named_property(env, obj, "shared", s) != napi_ok) return NULL;
  return obj;
}

/* Gets up to n arguments; returns the count, or -1 (with an exception pending). */
static long get_args(napi_env env, napi_callback_info info, napi_value *argv, size_t n) {
  size_t argc = n;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) {
    napi_throw_error(env, "KEYBRIDGE_NATIVE", "N-API call failed: napi_get_cb_info");
    return -1;
  }
  return (long)(argc < n ? argc : n);
}

/* ---------------------------------------------------------------- P-256 */

/*
 * The point of a SEC1 encoding, or NULL when it is not a 33-byte 02/03 or 65-byte 04 encoding of
 * a point of the curve. oct2point refuses coordinates ≥ p and points off the curve; the checks
 * after it say so again. P-256's cofactor is 1: every point but the identity is in the group.
 */
static EC_POINT *p256_point(const EC_GROUP *group, const unsigned char *enc, size_t len, BN_CTX *ctx) {
  int sec1 = (len == 33 && (enc[0] == 2 || enc[0] == 3)) || (len == 65 && enc[0] == 4);
  if (!sec1) return NULL;
  EC_POINT *pt = EC_POINT_new(group);
  if (!pt) return NULL;
  if (EC_POINT_oct2point(group, pt, enc, len, ctx) != 1 || EC_POINT_is_at_infinity(group, pt) || EC_POINT_is_on_curve(group, pt, ctx) != 1) {
    EC_POINT_free(pt);
    return NULL;
  }
  return pt;
}

/* The point's encoding into out (65 bytes), compressed (33) or not (65); 0 on failure. */
static size_t p256_encode(const EC_GROUP *group, const EC_POINT *pt, int compressed, unsigned char *out, BN_CTX *ctx) {
  size_t want = compressed ? 33 : 65;
  size_t n = EC_POINT_point2oct(group, pt, compressed ? POINT_CONVERSION_COMPRESSED : POINT_CONVERSION_UNCOMPRESSED, out, 65, ctx);
  return n == want ? n : 0;
}

static napi_value p256_convert(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  long argc = get_args(env, info, argv, 2);
  if (argc < 0) return NULL;
  unsigned char *point;
  size_t len;
  bool compressed = false;
  if (argc < 2 || !uint8_arg(env, argv[0], &point, &len) || napi_get_value_bool(env, argv[1], &compressed) != napi_ok)
    return throw_type(env, "p256Convert(point, compressed): a Uint8Array and a boolean expected");
  EC_GROUP *group = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
  BN_CTX *ctx = BN_CTX_new();
  if (!group || !ctx) {
    EC_GROUP_free(group);
    BN_CTX_free(ctx);
    return throw_openssl(env, "p256Convert: OpenSSL could not set up P-256");
  }
  unsigned char out[65];
  size_t n = 0;
  EC_POINT *pt = p256_point(group, point, len, ctx);
  if (pt) n = p256_encode(group, pt, compressed, out, ctx);
  EC_POINT_free(pt);
  BN_CTX_free(ctx);
  EC_GROUP_free(group);
  if (!n) return null_value(env);
  ERR_clear_error();
  return copy_uint8(env, out, n);
}

/* The x-coordinate shared by our key and the peer's (32 bytes into out); 0 on failure. */
static int derive(EVP_PKEY *ours, EVP_PKEY *peer, unsigned char *out, size_t want) {
  EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, ours, NULL);
  size_t len = want;
  int ok = ctx && EVP_PKEY_derive_init(ctx) == 1 && EVP_PKEY_derive_set_peer(ctx, peer) == 1 && EVP_PKEY_derive(ctx, out, &len) == 1 && len == want;
  EVP_PKEY_CTX_free(ctx);
  if (!ok) OPENSSL_cleanse(out, want);
  return ok;
}

/*
 * ECDH on P-256 as OpenSSL's own EC key generation and ECDH do it (ec_key.c, ecdh_ossl.c), with
 * OpenSSL's EC_POINT arithmetic on the group (constant-time for a secret scalar): a fresh scalar
 * d uniform in [1, n - 1] from the private random generator, our public point d·G, the shared
 * secret the x-coordinate of d·peer. Through EVP_PKEY the same costs a provider's key management
 * and key exchange set up for each call (about twice the instructions of a one-shot wrap).
 */
static napi_value p256_ecdh(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  long argc = get_args(env, info, argv, 3);
  if (argc < 0) return NULL;
  unsigned char *peer, *scalar = NULL;
  size_t peer_len, scalar_len = 0;
  bool compressed = false;
  if (argc < 2 || !uint8_arg(env, argv[0], &peer, &peer_len) || napi_get_value_bool(env, argv[1], &compressed) != napi_ok)
    return throw_type(env, "p256Ecdh(peer, compressed, scalar?): a Uint8Array and a boolean expected");
  if (!absent(env, (size_t)argc, argv, 2)) {
    if (!uint8_arg(env, argv[2], &scalar, &scalar_len)) return throw_type(env, "p256Ecdh: the scalar must be a Uint8Array");
    if (scalar_len != 32) return throw_range(env, "p256Ecdh: the scalar must be 32 bytes");
  }

  napi_value result = NULL;
  const char *failure = "p256Ecdh: OpenSSL could not set up P-256";
  int invalid_peer = 0, invalid_scalar = 0;
  unsigned char pub[65], shared[32];
  size_t pub_len = 0;
  EC_GROUP *group = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
  BN_CTX *ctx = BN_CTX_secure_new();
  EC_POINT *peer_pt = NULL, *pub_pt = NULL, *shared_pt = NULL;
  BIGNUM *d = NULL, *x = NULL;
  if (!group || !ctx) goto done;

  if (!(peer_pt = p256_point(group, peer, peer_len, ctx))) {
    invalid_peer = 1;
    goto done;
  }

  failure = "p256Ecdh: OpenSSL could not make the ephemeral key";
  const BIGNUM *order = EC_GROUP_get0_order(group);
  if (!(d = BN_secure_new())) goto done;
  BN_set_flags(d, BN_FLG_CONSTTIME);
  if (scalar) {
    if (!BN_bin2bn(scalar, 32, d)) goto done;
    if (BN_is_zero(d) || BN_cmp(d, order) >= 0) {
      invalid_scalar = 1;
      goto done;
    }
  } else {
    do {
      if (BN_priv_rand_range_ex(d, order, 0, ctx) != 1) goto done;
    } while (BN_is_zero(d));
  }
  if (!(pub_pt = EC_POINT_new(group)) || EC_POINT_mul(group, pub_pt, d, NULL, NULL, ctx) != 1) goto done;
  if (!(pub_len = p256_encode(group, pub_pt, compressed, pub, ctx))) goto done;

  failure = "p256Ecdh: OpenSSL's key derivation failed";
  if (!(shared_pt = EC_POINT_new(group)) || !(x = BN_secure_new())) goto done;
  if (EC_POINT_mul(group, shared_pt, NULL, peer_pt, d, ctx) != 1 || EC_POINT_is_at_infinity(group, shared_pt)) goto done;
  if (EC_POINT_get_affine_coordinates(group, shared_pt, x, NULL, ctx) != 1 || BN_bn2binpad(x, shared, 32) != 32) goto done;
  failure = NULL;
  ERR_clear_error();
  result = key_pair_result(env, pub, pub_len, shared, 32);
done:
  OPENSSL_cleanse(shared, sizeof shared);
  BN_clear_free(d);
  BN_clear_free(x);
  EC_POINT_clear_free(shared_pt);
  EC_POINT_free(pub_pt);
  EC_POINT_free(peer_pt);
  BN_CTX_free(ctx);
  EC_GROUP_free(group);
  if (invalid_peer) return null_value(env);
  if (invalid_scalar) {
    ERR_clear_error();
    return throw_range(env, "p256Ecdh: the scalar is not in [1, n - 1]");
  }
  if (failure) return throw_openssl(env, failure);
  return result;
}

/* ---------------------------------------------------------------- X25519, Ed25519 */

/* The raw 32-byte public key of pkey into out; 0 on failure. */
static int raw_public(EVP_PKEY *pkey, unsigned char *out) {
  size_t len = 32;
  return EVP_PKEY_get_raw_public_key(pkey, out, &len) == 1 && len == 32;
}

static napi_value x25519(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  long argc = get_args(env, info, argv, 2);
  if (argc < 0) return NULL;
  unsigned char *peer, *scalar = NULL;
  size_t peer_len, scalar_len = 0;
  if (argc < 1 || !uint8_arg(env, argv[0], &peer, &peer_len)) return throw_type(env, "x25519(peer, scalar?): a Uint8Array expected");
  if (peer_len != 32) return throw_range(env, "x25519: an X25519 public key is 32 bytes");
  if (!absent(env, (size_t)argc, argv, 1)) {
    if (!uint8_arg(env, argv[1], &scalar, &scalar_len)) return throw_type(env, "x25519: the scalar must be a Uint8Array");
    if (scalar_len != 32) return throw_range(env, "x25519: the scalar must be 32 bytes");
  }
  napi_value result = NULL;
  const char *failure = "x25519: OpenSSL could not make the keys";
  int low_order = 0;
  unsigned char pub[32], shared[32];
  EVP_PKEY *theirs = EVP_PKEY_new_raw_public_key_ex(NULL, "X25519", NULL, peer, 32);
  EVP_PKEY *ours = scalar ? EVP_PKEY_new_raw_private_key_ex(NULL, "X25519", NULL, scalar, 32) : EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
  if (!theirs || !ours || !raw_public(ours, pub)) goto done;
  /* OpenSSL's X25519 derivation fails on an all-zero output; the check below says so again */
  if (!derive(ours, theirs, shared, 32)) {
    low_order = 1;
    goto done;
  }
  unsigned char acc = 0;
  for (size_t i = 0; i < 32; i++) acc |= shared[i];
  if (acc == 0) {
    low_order = 1;
    goto done;
  }
  failure = NULL;
  ERR_clear_error();
  result = key_pair_result(env, pub, 32, shared, 32);
done:
  OPENSSL_cleanse(shared, sizeof shared);
  EVP_PKEY_free(ours);
  EVP_PKEY_free(theirs);
  if (low_order) return null_value(env);
  if (failure) return throw_openssl(env, failure);
  return result;
}

/* The public key of a raw 32-byte private key of the named type (X25519, ED25519). */
static napi_value public_of(napi_env env, napi_callback_info info, const char *type, const char *what) {
  napi_value argv[1];
  long argc = get_args(env, info, argv, 1);
  if (argc < 0) return NULL;
  unsigned char *priv;
  size_t len;
  if (argc < 1 || !uint8_arg(env, argv[0], &priv, &len)) return throw_type(env, what);
  if (len != 32) return throw_range(env, what);
  unsigned char pub[32];
  EVP_PKEY *pkey = EVP_PKEY_new_raw_private_key_ex(NULL, type, NULL, priv, 32);
  int ok = pkey && raw_public(pkey, pub);
  EVP_PKEY_free(pkey);
  if (!ok) return throw_openssl(env, "OpenSSL could not compute the public key");
  ERR_clear_error();
  return copy_uint8(env, pub, 32);
}

static napi_value x25519_public_key(napi_env env, napi_callback_info info) {
  return public_of(env, info, "X25519", "x25519PublicKey(scalar): a 32-byte Uint8Array expected");
}

static napi_value ed25519_public_key(napi_env env, napi_callback_info info) {
  return public_of(env, info, "ED25519", "ed25519PublicKey(seed): a 32-byte Uint8Array expected");
}

/* ---------------------------------------------------------------- hashes, HMAC, HKDF */

static napi_value digest(napi_env env, napi_callback_info info, const EVP_MD *md, size_t size, const char *what) {
  napi_value argv[1];
  long argc = get_args(env, info, argv, 1);
  if (argc < 0) return NULL;
  unsigned char *data;
  size_t len;
  if (argc < 1 || !uint8_arg(env, argv[0], &data, &len)) return throw_type(env, what);
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int out_len = 0;
  if (!md || EVP_Digest(data, len, out, &out_len, md, NULL) != 1 || out_len != size) return throw_openssl(env, "OpenSSL's digest failed");
  napi_value v = copy_uint8(env, out, size);
  OPENSSL_cleanse(out, sizeof out); /* a digest may be secret (SHA-512 of a seed) */
  return v;
}

static napi_value sha256(napi_env env, napi_callback_info info) {
  return digest(env, info, EVP_sha256(), 32, "sha256(data): a Uint8Array expected");
}

static napi_value sha512(napi_env env, napi_callback_info info) {
  return digest(env, info, EVP_sha512(), 64, "sha512(data): a Uint8Array expected");
}

/* HMAC-SHA-256 of data keyed by key into out (32 bytes); 0 on failure. */
static int hmac_sha256(const unsigned char *key, size_t key_len, const unsigned char *data, size_t len, unsigned char *out) {
  size_t out_len = 0;
  return EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, key_len, data, len, out, 32, &out_len) != NULL && out_len == 32;
}

/* (key, data) → HMAC-SHA-256; hkdfExtractSha256(salt, ikm) is the same function (RFC 5869 §2.2). */
static napi_value hmac(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  long argc = get_args(env, info, argv, 2);
  if (argc < 0) return NULL;
  unsigned char *key, *data;
  size_t key_len, len;
  if (argc < 2 || !uint8_arg(env, argv[0], &key, &key_len) || !uint8_arg(env, argv[1], &data, &len))
    return throw_type(env, "hmacSha256(key, data): two Uint8Arrays expected");
  unsigned char out[32];
  if (!hmac_sha256(key, key_len, data, len, out)) return throw_openssl(env, "OpenSSL's HMAC failed");
  napi_value v = copy_uint8(env, out, 32);
  OPENSSL_cleanse(out, sizeof out);
  return v;
}

#define HKDF_MAX (255 * 32)

/*
 * HKDF-SHA-256 (RFC 5869) on EVP_KDF "HKDF". Its extract step refuses an empty input key: then
 * the pseudorandom key is made by HKDF-Extract (HMAC-SHA-256, as hmac above) and EVP_KDF expands it.
 */
static int hkdf_sha256(const unsigned char *ikm, size_t ikm_len, const unsigned char *salt, size_t salt_len, const unsigned char *info, size_t info_len, unsigned char *out, size_t len) {
  unsigned char prk[32];
  int mode = EVP_KDF_HKDF_MODE_EXTRACT_AND_EXPAND, ok = 0;
  if (ikm_len == 0) {
    if (!hmac_sha256(salt, salt_len, ikm, 0, prk)) return 0;
    ikm = prk;
    ikm_len = 32;
    mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
  }
  EVP_KDF *kdf = EVP_KDF_fetch(NULL, OSSL_KDF_NAME_HKDF, NULL);
  EVP_KDF_CTX *kctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
  if (kctx) {
    OSSL_PARAM params[6], *p = params;
    *p++ = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
    *p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
    *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)ikm, ikm_len);
    if (mode != EVP_KDF_HKDF_MODE_EXPAND_ONLY && salt_len) *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, salt_len);
    if (info_len) *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, info_len);
    *p = OSSL_PARAM_construct_end();
    ok = EVP_KDF_derive(kctx, out, len, params) == 1;
  }
  EVP_KDF_CTX_free(kctx); /* clears the key it copied */
  EVP_KDF_free(kdf);
  OPENSSL_cleanse(prk, sizeof prk);
  if (!ok) OPENSSL_cleanse(out, len);
  return ok;
}

static napi_value hkdf(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  long argc = get_args(env, info, argv, 4);
  if (argc < 0) return NULL;
  unsigned char *ikm, *salt, *inf;
  size_t ikm_len, salt_len, info_len;
  uint32_t len = 0;
  if (argc < 4 || !uint8_arg(env, argv[0], &ikm, &ikm_len) || !uint8_arg(env, argv[1], &salt, &salt_len) || !uint8_arg(env, argv[2], &inf, &info_len) ||
      napi_get_value_uint32(env, argv[3], &len) != napi_ok)
    return throw_type(env, "hkdfSha256(ikm, salt, info, length): three Uint8Arrays and a length expected");
  if (len < 1 || len > HKDF_MAX) return throw_range(env, "hkdfSha256: the length must be 1 to 8160 bytes");
  /* OpenSSL takes the info in one parameter of bounded size: bound it here */
  if (info_len > 1024) return throw_range(env, "hkdfSha256: the info is at most 1024 bytes");
  unsigned char out[HKDF_MAX];
  if (!hkdf_sha256(ikm, ikm_len, salt, salt_len, inf, info_len, out, len)) return throw_openssl(env, "OpenSSL's HKDF failed");
  ERR_clear_error();
  napi_value v = copy_uint8(env, out, len);
  OPENSSL_cleanse(out, len);
  return v;
}

/* ---------------------------------------------------------------- ChaCha20-Poly1305 */

/* Feeds len bytes to the cipher in int-sized pieces: into out, or as AAD when out is NULL. */
static int update(EVP_CIPHER_CTX *ctx, unsigned char *out, const unsigned char *in, size_t len) {
  for (size_t off = 0; off < len; off += PIECE) {
    int piece = (int)(len - off < PIECE ? len - off : PIECE), n = 0;
    if (EVP_CipherUpdate(ctx, out ? out + off : NULL, &n, in + off, piece) != 1 || (out && n != piece)) return 0;
  }
  return 1;
}

/* Runs the AEAD over in (len bytes) into out; the tag is read from (open) or written to (seal) tag. */
static int chacha(int seal, const unsigned char *key, const unsigned char *nonce, const unsigned char *aad, size_t aad_len, const unsigned char *in, size_t len, unsigned char *out, unsigned char *tag) {
  EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
  int ok = 0, n = 0;
  if (!ctx || EVP_CipherInit_ex(ctx, EVP_chacha20_poly1305(), NULL, NULL, NULL, seal) != 1) goto done;
  if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_IVLEN, 12, NULL) != 1 || EVP_CipherInit_ex(ctx, NULL, NULL, key, nonce, seal) != 1) goto done;
  if (!update(ctx, NULL, aad, aad_len) || !update(ctx, out, in, len)) goto done;
  if (!seal && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, 16, tag) != 1) goto done;
  if (EVP_CipherFinal_ex(ctx, out + len, &n) != 1 || n != 0) goto done;
  if (seal && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, tag) != 1) goto done;
  ok = 1;
done:
  EVP_CIPHER_CTX_free(ctx); /* clears the key schedule */
  return ok;
}

static napi_value aead(napi_env env, napi_callback_info info, int seal) {
  napi_value argv[4];
  long argc = get_args(env, info, argv, 4);
  if (argc < 0) return NULL;
  unsigned char *key, *nonce, *in, *aad = EMPTY;
  size_t key_len, nonce_len, len, aad_len = 0;
  if (argc < 3 || !uint8_arg(env, argv[0], &key, &key_len) || !uint8_arg(env, argv[1], &nonce, &nonce_len) || !uint8_arg(env, argv[2], &in, &len) ||
      (!absent(env, (size_t)argc, argv, 3) && !uint8_arg(env, argv[3], &aad, &aad_len)))
    return throw_type(env, seal ? "chacha20Poly1305Seal(key, nonce, plaintext, aad?): Uint8Arrays expected" : "chacha20Poly1305Open(key, nonce, sealed, aad?): Uint8Arrays expected");
  if (key_len != 32 || nonce_len != 12) return throw_range(env, "ChaCha20-Poly1305 takes a 32-byte key and a 12-byte nonce");
  if (!seal && len < 16) return null_value(env);
  size_t out_len = seal ? len + 16 : len - 16;
  unsigned char *out;
  napi_value result = new_uint8(env, out_len, &out);
  if (!result) return NULL;
  unsigned char tag[16];
  if (!seal) memcpy(tag, in + out_len, 16);
  /* the plaintext is written in place of the output; the tag after it (seal) */
  int ok = chacha(seal, key, nonce, aad, aad_len, in, seal ? len : out_len, out, tag);
  if (!ok) {
    OPENSSL_cleanse(out, out_len);
    if (!seal) return null_value(env);
    return throw_openssl(env, "OpenSSL's ChaCha20-Poly1305 failed");
  }
  if (seal) memcpy(out + len, tag, 16);
  ERR_clear_error();
  return result;
}

static napi_value seal_fn(napi_env env, napi_callback_info info) {
  return aead(env, info, 1);
}

static napi_value open_fn(napi_env env, napi_callback_info info) {
  return aead(env, info, 0);
}

/* ---------------------------------------------------------------- files */

static napi_value read_file(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  long argc = get_args(env, info, argv, 2);
  if (argc < 0) return NULL;
  char path[4096];
  size_t path_len = 0;
  uint32_t max = 0;
  if (argc < 2 || napi_get_value_string_utf8(env, argv[0], path, sizeof path, &path_len) != napi_ok || napi_get_value_uint32(env, argv[1], &max) != napi_ok)
    return throw_type(env, "readFile(path, maxBytes): a string and a number expected");
  if (path_len == 0 || path_len >= sizeof path - 1 || strlen(path) != path_len) return null_value(env);
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) return null_value(env);
  struct stat st;
  napi_value result = NULL;
  unsigned char *data = NULL;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < 0 || (uint64_t)st.st_size > max) goto done;
  size_t size = (size_t)st.st_size, got = 0;
  napi_value out = new_uint8(env, size, &data);
  if (!out) goto done;
  while (got < size) {
    ssize_t n = read(fd, data + got, size - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += (size_t)n;
  }
  if (got == size) result = out;
done:
  close(fd);
  return result ? result : null_value(env);
}

NAPI_MODULE_INIT() {
  static const struct {
    const char *name;
    napi_callback fn;
  } fns[] = {
      {"p256Convert", p256_convert},
      {"p256Ecdh", p256_ecdh},
      {"x25519", x25519},
      {"x25519PublicKey", x25519_public_key},
      {"ed25519PublicKey", ed25519_public_key},
      {"sha256", sha256},
      {"sha512", sha512},
      {"hmacSha256", hmac},
      {"hkdfExtractSha256", hmac},
      {"hkdfSha256", hkdf},
      {"chacha20Poly1305Seal", seal_fn},
      {"chacha20Poly1305Open", open_fn},
      {"readFile", read_file},
  };
  for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
    napi_value fn;
    if (napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].fn, NULL, &fn) != napi_ok) return NULL;
    if (napi_set_named_property(env, exports, fns[i].name, fn) != napi_ok) return NULL;
  }
  return exports;
}
