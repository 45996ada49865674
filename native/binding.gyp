{
  "targets": [
    {
      "target_name": "keybridge_native",
      "sources": ["agent.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-fstack-protector-strong"],
      "defines": ["NAPI_VERSION=8", "_GNU_SOURCE"]
    },
    {
      "target_name": "keybridge_bignum",
      "sources": ["bignum.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-fstack-protector-strong"],
      "defines": ["NAPI_VERSION=8"]
    },
    {
      "target_name": "keybridge_openssl",
      "sources": ["openssl.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-fstack-protector-strong"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
