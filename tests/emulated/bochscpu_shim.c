/* Loaded (RTLD_GLOBAL) before the bochscpu module by emulated_cpu.py; built into the
 * emulator venv by scripts/emulator-venv.sh.
 *
 * 1. The module's wheel was linked against glibc 2.38, whose C23 scanf and strtoull
 *    entry points Debian 12's glibc 2.36 lacks; these forward to the older ones (the C23
 *    differences, binary "0b" literals, do not arise in the module's use).
 * 2. latentbus_select_cpu_model: the module emulates one CPU model of Bochs' catalogue,
 *    chosen by its "cpu.model" parameter (Cannon Lake unless set); sets it, by its index in
 *    the catalogue (the module's parameter has no names to look up), before a session
 *    creates its CPU. emulated_cpu.py names the indices and checks each model's CPUID brand
 *    string. Returns 0, or < 0 when the module's symbols are not found. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

unsigned long long __isoc23_strtoull(const char* s, char** end, int base) {
  return strtoull(s, end, base);
}

int __isoc23_sscanf(const char* s, const char* format, ...) {
  va_list args;
  va_start(args, format);
  int n = vsscanf(s, format, args);
  va_end(args);
  return n;
}

typedef void* (*get_param_enum_fn)(void* sim, const char* name, void* base);
typedef void (*set_fn)(void* param, long value);

int latentbus_select_cpu_model(const char* module_path, long index) {
  void* module = dlopen(module_path, RTLD_NOW | RTLD_NOLOAD);
  if (module == NULL) return -1;
  void** sim = (void**)dlsym(module, "SIM");
  get_param_enum_fn get =
      (get_param_enum_fn)dlsym(module, "_ZN13bx_real_sim_c14get_param_enumEPKcP10bx_param_c");
  set_fn set = (set_fn)dlsym(module, "_ZN15bx_param_enum_c3setEl");
  if (sim == NULL || *sim == NULL || get == NULL || set == NULL) return -2;
  void* param = get(*sim, "cpu.model", NULL);
  if (param == NULL) return -3;
  set(param, index);
  return 0;
}
