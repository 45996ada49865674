/* Argument helpers shared by the N-API addons (bignum.c, openssl.c). */
#ifndef KEYBRIDGE_NAPI_ARGS_H
#define KEYBRIDGE_NAPI_ARGS_H

#include <node_api.h>
#include <stddef.h>

/* A stand-in address for empty inputs (an empty Uint8Array may have no data pointer). */
static unsigned char napi_args_empty[1];

/* The bytes of a Uint8Array argument (a valid address even when it is empty); 0 when v is not one. */
static inline int uint8_arg(napi_env env, napi_value v, unsigned char **data, size_t *len) {
  bool is_typed = false;
  if (napi_is_typedarray(env, v, &is_typed) != napi_ok || !is_typed) return 0;
  napi_typedarray_type type;
  void *ptr = NULL;
  if (napi_get_typedarray_info(env, v, &type, len, &ptr, NULL, NULL) != napi_ok || type != napi_uint8_array) return 0;
  *data = ptr && *len ? ptr : napi_args_empty;
  return 1;
}

#endif
