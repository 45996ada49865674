/*
 * What the keybridge agent needs from the kernel that Node does not expose:
 *
 * - peerCredentials(fd): the pid, uid and gid of the process at the other end of a connected
 *   Unix socket (SO_PEERCRED), so the agent talks only to its own user (or root);
 * - setNonDumpable() / isDumpable(): prctl(PR_SET_DUMPABLE, 0), so no core dump is written and
 *   other processes of the same user cannot ptrace the agent or read its /proc/<pid>/mem;
 * - lockedBuffer(size): an ArrayBuffer in its own anonymous mapping, mlock'ed (never swapped),
 *   MADV_DONTDUMP (never in a core dump), zeroed with explicit_bzero when the buffer is collected;
 *   zero(buffer): explicit_bzero on any ArrayBuffer or typed array view, for dropping a secret now.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <node_api.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define CHECK(call)                                                                             \
  do {                                                                                          \
    if ((call) != napi_ok) {                                                                    \
      napi_throw_error(env, "KEYBRIDGE_NATIVE", "N-API call failed: " #call);                  \
      return NULL;                                                                              \
    }                                                                                           \
  } while (0)

/* Largest secret buffer handed out: a few pages is plenty for PINs and tokens. */
#define LOCKED_MAX (64 * 1024)

static napi_value throw_errno(napi_env env, const char *what, int err) {
  char msg[256];
  char code[32];
  snprintf(msg, sizeof msg, "%s failed: %s", what, strerror(err));
  snprintf(code, sizeof code, "E%d", err);
  napi_throw_error(env, code, msg);
  return NULL;
}

static napi_value set_u32(napi_env env, napi_value obj, const char *name, uint32_t v) {
  napi_value n;
  if (napi_create_uint32(env, v, &n) != napi_ok) return NULL;
  if (napi_set_named_property(env, obj, name, n) != napi_ok) return NULL;
  return obj;
}

static napi_value peer_credentials(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd = -1;
  if (argc < 1 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0) {
    napi_throw_type_error(env, "EINVAL", "peerCredentials(fd): fd must be a non-negative integer");
    return NULL;
  }
  struct ucred cred;
  socklen_t len = sizeof cred;
  memset(&cred, 0, sizeof cred);
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return throw_errno(env, "getsockopt(SO_PEERCRED)", errno);
  if (len != sizeof cred) return throw_errno(env, "getsockopt(SO_PEERCRED)", EPROTO);
  napi_value obj;
  CHECK(napi_create_object(env, &obj));
  if (!set_u32(env, obj, "pid", (uint32_t)cred.pid)) return NULL;
  if (!set_u32(env, obj, "uid", (uint32_t)cred.uid)) return NULL;
  if (!set_u32(env, obj, "gid", (uint32_t)cred.gid)) return NULL;
  return obj;
}

static napi_value set_non_dumpable(napi_env env, napi_callback_info info) {
  (void)info;
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) return throw_errno(env, "prctl(PR_SET_DUMPABLE, 0)", errno);
  napi_value undef;
  CHECK(napi_get_undefined(env, &undef));
  return undef;
}

static napi_value is_dumpable(napi_env env, napi_callback_info info) {
  (void)info;
  int r = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
  if (r < 0) return throw_errno(env, "prctl(PR_GET_DUMPABLE)", errno);
  napi_value b;
  CHECK(napi_get_boolean(env, r != 0, &b));
  return b;
}

typedef struct {
  void *base;
  size_t mapped;
} locked_region;

static void locked_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)data;
  locked_region *r = hint;
  explicit_bzero(r->base, r->mapped);
  munlock(r->base, r->mapped);
  munmap(r->base, r->mapped);
  explicit_bzero(r, sizeof *r);
  free(r);
}

static napi_value locked_buffer(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  uint32_t size = 0;
  if (argc < 1 || napi_get_value_uint32(env, argv[0], &size) != napi_ok || size == 0 || size > LOCKED_MAX) {
    napi_throw_range_error(env, "EINVAL", "lockedBuffer(size): size must be 1..65536");
    return NULL;
  }
  long page = sysconf(_SC_PAGESIZE);
  if (page <= 0) page = 4096;
  size_t mapped = ((size + (size_t)page - 1) / (size_t)page) * (size_t)page;
  void *base = mmap(NULL, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (base == MAP_FAILED) return throw_errno(env, "mmap", errno);
  if (mlock(base, mapped) != 0) {
    int err = errno;
    munmap(base, mapped);
    return throw_errno(env, "mlock (raise RLIMIT_MEMLOCK: ulimit -l)", err);
  }
  if (madvise(base, mapped, MADV_DONTDUMP) != 0) {
    int err = errno;
    munlock(base, mapped);
    munmap(base, mapped);
    return throw_errno(env, "madvise(MADV_DONTDUMP)", err);
  }
  locked_region *r = malloc(sizeof *r);
  if (!r) {
    munlock(base, mapped);
    munmap(base, mapped);
    return throw_errno(env, "malloc", ENOMEM);
  }
  r->base = base;
  r->mapped = mapped;
  napi_value ab;
  if (napi_create_external_arraybuffer(env, base, size, locked_finalize, r, &ab) != napi_ok) {
    munlock(base, mapped);
    munmap(base, mapped);
    free(r);
    napi_throw_error(env, "KEYBRIDGE_NATIVE", "external ArrayBuffers are not supported by this Node.js");
    return NULL;
  }
  return ab;
}

static napi_value zero(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1) {
    napi_throw_type_error(env, "EINVAL", "zero(buffer): a buffer is required");
    return NULL;
  }
  bool is_ab = false, is_ta = false, is_dv = false;
  void *data = NULL;
  size_t len = 0;
  CHECK(napi_is_arraybuffer(env, argv[0], &is_ab));
  CHECK(napi_is_typedarray(env, argv[0], &is_ta));
  CHECK(napi_is_dataview(env, argv[0], &is_dv));
  if (is_ab) {
    CHECK(napi_get_arraybuffer_info(env, argv[0], &data, &len));
  } else if (is_ta) {
    napi_typedarray_type type;
    size_t n;
    napi_value ab;
    size_t offset;
    CHECK(napi_get_typedarray_info(env, argv[0], &type, &n, &data, &ab, &offset));
    size_t width = 1;
    switch (type) {
      case napi_int16_array: case napi_uint16_array: width = 2; break;
      case napi_int32_array: case napi_uint32_array: case napi_float32_array: width = 4; break;
      case napi_float64_array: case napi_bigint64_array: case napi_biguint64_array: width = 8; break;
      default: width = 1;
    }
    len = n * width;
  } else if (is_dv) {
    napi_value ab;
    size_t offset;
    CHECK(napi_get_dataview_info(env, argv[0], &len, &data, &ab, &offset));
  } else {
    napi_throw_type_error(env, "EINVAL", "zero(buffer): expected an ArrayBuffer or a typed array");
    return NULL;
  }
  if (data && len) explicit_bzero(data, len);
  napi_value undef;
  CHECK(napi_get_undefined(env, &undef));
  return undef;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"peerCredentials", NULL, peer_credentials, NULL, NULL, NULL, napi_enumerable, NULL},
    {"setNonDumpable", NULL, set_non_dumpable, NULL, NULL, NULL, napi_enumerable, NULL},
    {"isDumpable", NULL, is_dumpable, NULL, NULL, NULL, napi_enumerable, NULL},
    {"lockedBuffer", NULL, locked_buffer, NULL, NULL, NULL, napi_enumerable, NULL},
    {"zero", NULL, zero, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
