/*
 * The few Linux system calls Node does not expose and every storage driver
 * needs: mount/umount2, mknod (whiteouts, device nodes) and the l*xattr family
 * (opaque directories, file capabilities). Each function is a thin, synchronous
 * wrapper that throws an Error carrying the errno name in `code`, like fs does.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <node_api.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#define MAX_PATH 4096
#define MAX_DATA 65536

static const char *errno_name(int e) {
  switch (e) {
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case EACCES: return "EACCES";
    case EBUSY: return "EBUSY";
    case EEXIST: return "EEXIST";
    case ENOTDIR: return "ENOTDIR";
    case EINVAL: return "EINVAL";
    case ENOSPC: return "ENOSPC";
    case ENODEV: return "ENODEV";
    case ENOTSUP: return "ENOTSUP";
    case ENODATA: return "ENODATA";
    case ERANGE: return "ERANGE";
    case E2BIG: return "E2BIG";
    case ELOOP: return "ELOOP";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    case EROFS: return "EROFS";
    default: return "EUNKNOWN";
  }
}

static napi_value throw_errno(napi_env env, const char *syscall, const char *path) {
  int e = errno;
  char msg[MAX_PATH + 128];
  snprintf(msg, sizeof msg, "%s: %s, %s '%s'", errno_name(e), strerror(e), syscall, path ? path : "");
  napi_value code, message, err, errno_v, sys;
  napi_create_string_utf8(env, errno_name(e), NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &message);
  napi_create_error(env, code, message, &err);
  napi_create_int32(env, -e, &errno_v);
  napi_set_named_property(env, err, "errno", errno_v);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &sys);
  napi_set_named_property(env, err, "syscall", sys);
  napi_throw(env, err);
  return NULL;
}

/* Copies a JS string argument into buf; returns 0 and throws on failure. */
static int get_str(napi_env env, napi_value v, char *buf, size_t len) {
  size_t n;
  napi_valuetype t;
  napi_typeof(env, v, &t);
  if (t == napi_null || t == napi_undefined) { buf[0] = 0; return 1; }
  if (napi_get_value_string_utf8(env, v, buf, len, &n) != napi_ok || n >= len - 1) {
    napi_throw_type_error(env, "EINVAL", "expected a string argument of sane length");
    return 0;
  }
  return 1;
}

static napi_value js_mount(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  static char src[MAX_PATH], tgt[MAX_PATH], fstype[256], data[MAX_DATA];
  uint32_t flags = 0;
  if (!get_str(env, argv[0], src, sizeof src) || !get_str(env, argv[1], tgt, sizeof tgt) ||
      !get_str(env, argv[2], fstype, sizeof fstype) || !get_str(env, argv[4], data, sizeof data)) return NULL;
  napi_get_value_uint32(env, argv[3], &flags);
  if (mount(src[0] ? src : NULL, tgt, fstype[0] ? fstype : NULL, flags, data[0] ? data : NULL) != 0)
    return throw_errno(env, "mount", tgt);
  return NULL;
}

static napi_value js_umount(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  static char tgt[MAX_PATH];
  uint32_t flags = 0;
  if (!get_str(env, argv[0], tgt, sizeof tgt)) return NULL;
  if (argc > 1) napi_get_value_uint32(env, argv[1], &flags);
  if (umount2(tgt, flags) != 0) return throw_errno(env, "umount2", tgt);
  return NULL;
}

static napi_value js_mknod(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  static char path[MAX_PATH];
  uint32_t mode = 0, major_n = 0, minor_n = 0;
  if (!get_str(env, argv[0], path, sizeof path)) return NULL;
  napi_get_value_uint32(env, argv[1], &mode);
  napi_get_value_uint32(env, argv[2], &major_n);
  napi_get_value_uint32(env, argv[3], &minor_n);
  if (mknod(path, mode, makedev(major_n, minor_n)) != 0) return throw_errno(env, "mknod", path);
  return NULL;
}

static napi_value js_lsetxattr(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  static char path[MAX_PATH], name[256];
  void *data;
  size_t len;
  if (!get_str(env, argv[0], path, sizeof path) || !get_str(env, argv[1], name, sizeof name)) return NULL;
  if (napi_get_buffer_info(env, argv[2], &data, &len) != napi_ok) {
    napi_throw_type_error(env, "EINVAL", "xattr value must be a Buffer");
    return NULL;
  }
  if (lsetxattr(path, name, data, len, 0) != 0) return throw_errno(env, "lsetxattr", path);
  return NULL;
}

/* Returns the value as a Buffer, or null when the attribute is absent. */
static napi_value js_lgetxattr(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], result;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  static char path[MAX_PATH], name[256];
  static char value[MAX_DATA];
  if (!get_str(env, argv[0], path, sizeof path) || !get_str(env, argv[1], name, sizeof name)) return NULL;
  ssize_t n = lgetxattr(path, name, value, sizeof value);
  if (n < 0) {
    if (errno == ENODATA || errno == ENOTSUP) { napi_get_null(env, &result); return result; }
    return throw_errno(env, "lgetxattr", path);
  }
  void *out;
  napi_create_buffer_copy(env, (size_t)n, value, &out, &result);
  return result;
}

static napi_value js_llistxattr(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], result;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  static char path[MAX_PATH];
  static char list[MAX_DATA];
  if (!get_str(env, argv[0], path, sizeof path)) return NULL;
  ssize_t n = llistxattr(path, list, sizeof list);
  napi_create_array(env, &result);
  if (n < 0) {
    if (errno == ENOTSUP) return result;
    return throw_errno(env, "llistxattr", path);
  }
  uint32_t i = 0;
  for (ssize_t off = 0; off < n; off += (ssize_t)strlen(list + off) + 1) {
    napi_value s;
    napi_create_string_utf8(env, list + off, NAPI_AUTO_LENGTH, &s);
    napi_set_element(env, result, i++, s);
  }
  return result;
}

static void set_u32(napi_env env, napi_value obj, const char *name, uint32_t v) {
  napi_value n;
  napi_create_uint32(env, v, &n);
  napi_set_named_property(env, obj, name, n);
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor fns[] = {
    {"mount", NULL, js_mount, NULL, NULL, NULL, napi_default, NULL},
    {"umount", NULL, js_umount, NULL, NULL, NULL, napi_default, NULL},
    {"mknod", NULL, js_mknod, NULL, NULL, NULL, napi_default, NULL},
    {"lsetxattr", NULL, js_lsetxattr, NULL, NULL, NULL, napi_default, NULL},
    {"lgetxattr", NULL, js_lgetxattr, NULL, NULL, NULL, napi_default, NULL},
    {"llistxattr", NULL, js_llistxattr, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof fns / sizeof fns[0], fns);
  set_u32(env, exports, "MS_RDONLY", MS_RDONLY);
  set_u32(env, exports, "MS_NOSUID", MS_NOSUID);
  set_u32(env, exports, "MS_NODEV", MS_NODEV);
  set_u32(env, exports, "MS_NOEXEC", MS_NOEXEC);
  set_u32(env, exports, "MS_REMOUNT", MS_REMOUNT);
  set_u32(env, exports, "MS_BIND", MS_BIND);
  set_u32(env, exports, "MS_REC", MS_REC);
  set_u32(env, exports, "MS_PRIVATE", MS_PRIVATE);
  set_u32(env, exports, "MS_SLAVE", MS_SLAVE);
  set_u32(env, exports, "MNT_DETACH", MNT_DETACH);
  set_u32(env, exports, "S_IFCHR", S_IFCHR);
  set_u32(env, exports, "S_IFBLK", S_IFBLK);
  set_u32(env, exports, "S_IFIFO", S_IFIFO);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
