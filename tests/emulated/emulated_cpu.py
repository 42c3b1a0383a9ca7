"""Calls a function of a freestanding x86-64 ELF on an emulated CPU of a chosen model.

The vector kernels have variants for instruction sets the machine at hand may lack
(AVX-512, VNNI). This runs them anyway: Bochs' CPU emulator (the `bochscpu` module, in the
venv scripts/emulator-venv.sh builds) executes the program instruction by instruction as a
CPU of the chosen model would, CPUID included, so the program's own feature checks see that
model. The program is one the build makes with latentbus_freestanding_elf
(cmake/Freestanding.cmake): no C library, no system calls, an entry of the System V ABI.

The machine set up here: 64-bit mode at ring 0, the first GiB identity-mapped with 2 MiB
pages, SSE/AVX/AVX-512 state enabled (CR4.OSXSAVE, XCR0 = x87|SSE|AVX|opmask|ZMM), physical
pages allocated (zeroed) on first touch. The module reads and writes guest memory a page at
a time (a longer copy would run past the page's host memory). The function returns to an
address holding `hlt`.
"""

import ctypes
import os
import struct

PAGE = 0x1000
PAGE_TABLES = 0x3FF00000  # PML4, PDPT, PD: three pages below 1 GiB
STACK_TOP = 0x20000000
RETURN_ADDRESS = 0x30000000
FIRST_FREE = 0x10000000  # where arguments are placed

# The CPU models of the module's catalogue that the tests use: name -> (index, a part of
# the CPUID brand string, checked on every call).
CPU_MODELS = {
    "corei7_sandy_bridge_2600k": (19, "i7-2600K"),  # AVX, no AVX2
    "ryzen": (22, "Ryzen 7 1700"),  # AMD Zen: AVX2 + FMA, no AVX-512
    "corei7_haswell_4770": (24, "i7-4770"),  # AVX2 + FMA
    "corei7_skylake_x": (26, "i7-7800X"),  # AVX-512 F/BW/DQ/VL/CD
    "corei7_icelake_u": (28, "i7-1065G7"),  # + VNNI, VBMI2, ...
    "tigerlake": (29, "i5-1135G7"),  # + VP2INTERSECT
    "sapphire_rapids": (30, "w9-3475X"),  # + BF16, FP16, AMX, AVX-VNNI
    "arrow_lake": (31, "Ultra 5 245K"),  # AVX2 + AVX-VNNI, no AVX-512
}


def _load_module(shim_path):
    # The shim first, global, so that the module's glibc 2.38 symbols resolve to it.
    shim = ctypes.CDLL(shim_path, mode=ctypes.RTLD_GLOBAL)
    import bochscpu  # noqa: E402  pylint: disable=import-outside-toplevel
    import bochscpu._bochscpu as native  # pylint: disable=import-outside-toplevel
    import bochscpu.memory  # pylint: disable=import-outside-toplevel

    select = shim.latentbus_select_cpu_model
    select.argtypes = [ctypes.c_char_p, ctypes.c_long]
    select.restype = ctypes.c_int
    return bochscpu, bochscpu.memory, lambda index: select(native.__file__.encode(), index)


_process_model = None  # the model this process emulates (see EmulatedCpu.call)


class EmulationError(RuntimeError):
    pass


class EmulatedCpu:
    """One emulated machine; `call` runs a function of `elf_path` on a CPU of `model`."""

    def __init__(self, shim_path, elf_path):
        self._bochscpu, self._mem, self._select = _load_module(shim_path)
        self._pages = {}
        self._next_free = FIRST_FREE
        self._symbols = {}
        self._entry = self._load_elf(elf_path)
        self._map_first_gib()
        self._write(RETURN_ADDRESS, b"\xf4")  # hlt

    def _page(self, gpa):
        gpa &= ~(PAGE - 1)
        if gpa not in self._pages:
            hva = self._mem.allocate_host_page()
            self._mem.page_insert(gpa, hva)
            self._mem.phy_write(gpa, [0] * PAGE)
            self._pages[gpa] = hva

    @staticmethod
    def _pieces(address, size):
        """(address, offset, length) of the parts of [address, address + size) in each page:
        the module copies within one page only."""
        offset = 0
        while offset < size:
            at = address + offset
            length = min(size - offset, PAGE - (at & (PAGE - 1)))
            yield at, offset, length
            offset += length

    def _write(self, address, data):
        for at, offset, length in self._pieces(address, len(data)):
            self._page(at)
            self._mem.phy_write(at, list(data[offset:offset + length]))

    def read(self, address, size):
        out = bytearray()
        for at, _, length in self._pieces(address, size):
            self._page(at)
            out += bytes(self._mem.phy_read(at, length))
        return bytes(out)

    def _load_elf(self, path):
        with open(path, "rb") as f:
            data = f.read()
        if data[:4] != b"\x7fELF" or data[4] != 2 or struct.unpack_from("<H", data, 0x12)[0] != 62:
            raise EmulationError(f"{path}: not an x86-64 ELF64 file")
        self._symbols = self._read_symbols(data)
        entry, phoff = struct.unpack_from("<QQ", data, 0x18)
        phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
        for i in range(phnum):
            (p_type, _, p_offset, p_vaddr, _, p_filesz, p_memsz, _) = struct.unpack_from(
                "<IIQQQQQQ", data, phoff + i * phentsize)
            if p_type != 1:  # PT_LOAD
                continue
            if p_vaddr + p_memsz > FIRST_FREE:
                raise EmulationError(f"{path}: a segment reaches past {FIRST_FREE:#x}")
            # Zeros past the file's bytes (.bss), then the bytes.
            self._write(p_vaddr, bytes(p_memsz))
            self._write(p_vaddr, data[p_offset:p_offset + p_filesz])
        return entry

    def symbol(self, name):
        """The address of a function or object named `name` in the ELF's symbol table."""
        if name not in self._symbols:
            raise EmulationError(f"no symbol {name!r} in the program")
        return self._symbols[name]

    @staticmethod
    def _read_symbols(data):
        shoff = struct.unpack_from("<Q", data, 0x28)[0]
        shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
        sections = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize)
                    for i in range(shnum)]
        symbols = {}
        for (_, sh_type, _, _, offset, size, link, _, _, entsize) in sections:
            if sh_type != 2:  # SHT_SYMTAB
                continue
            strings_offset = sections[link][4]
            for at in range(offset, offset + size, entsize):
                st_name, _, _, _, st_value, _ = struct.unpack_from("<IBBHQQ", data, at)
                end = data.index(b"\0", strings_offset + st_name)
                symbols[data[strings_offset + st_name:end].decode()] = st_value
        return symbols

    def _map_first_gib(self):
        pml4, pdpt, pd = PAGE_TABLES, PAGE_TABLES + PAGE, PAGE_TABLES + 2 * PAGE
        self._write(pml4, struct.pack("<Q", pdpt | 0x3))  # present, writable
        self._write(pdpt, struct.pack("<Q", pd | 0x3))
        # 512 entries of 2 MiB: present, writable, page size.
        self._write(pd, b"".join(struct.pack("<Q", (i << 21) | 0x83) for i in range(512)))

    def place(self, data, align=64):
        """Copies `data` into the machine's memory; returns its address."""
        address = (self._next_free + align - 1) & ~(align - 1)
        self._write(address, data)
        self._next_free = address + max(len(data), 1)
        return address

    def call(self, model, args, symbol_address=None):
        """Runs the entry (or `symbol_address`) with up to six integer arguments on a CPU of
        `model` (a name of CPU_MODELS). Returns rax. Raises EmulationError on a CPU
        exception. One model per process: the module keeps instructions it decoded, with
        their validity on the model that decoded them, across sessions."""
        if model not in CPU_MODELS:
            raise EmulationError(f"unknown CPU model {model!r}; known: {', '.join(CPU_MODELS)}")
        global _process_model  # pylint: disable=global-statement
        if _process_model not in (None, model):
            raise EmulationError(f"{model}: this process emulated {_process_model} already "
                                 "(one model per process)")
        _process_model = model
        index, brand = CPU_MODELS[model]
        if self._select(index) < 0:
            raise EmulationError("the emulator module's CPU model parameter was not found")
        seen = self._brand(model)
        if brand not in seen:
            raise EmulationError(f"{model}: the emulated CPU calls itself {seen!r}, "
                                 f"expected {brand!r}")
        return self._run(model, args, symbol_address)

    def _brand(self, model):
        """The emulated CPU's brand string (latentbus_cpu_brand of freestanding.cc)."""
        out = self.place(bytes(48))
        self._run(model, [out], self.symbol("latentbus_cpu_brand"))
        return self.read(out, 48).split(b"\0")[0].decode(errors="replace").strip()

    def _run(self, model, args, symbol_address):
        bochscpu = self._bochscpu
        session = bochscpu.Session()
        session.missing_page_handler = self._page
        state = bochscpu.State()
        state.cr0 = 0x80010033  # PG, WP, NE, ET, MP, PE
        state.cr3 = PAGE_TABLES
        state.cr4 = 0x40620  # OSXSAVE, OSXMMEXCPT, OSFXSR, PAE
        state.efer = 0xD00  # NXE, LMA, LME
        state.xcr0 = 0xE7  # x87, SSE, AVX, opmask, ZMM_Hi256, Hi16_ZMM
        state.mxcsr = 0x1F80
        code = bochscpu.Segment()
        code.present, code.selector, code.base, code.limit, code.attr = True, 0x10, 0, 0xFFFFFFFF, 0x209B
        data = bochscpu.Segment()
        data.present, data.selector, data.base, data.limit, data.attr = True, 0x18, 0, 0xFFFFFFFF, 0xC093
        state.cs = code
        state.ss = state.ds = state.es = state.fs = state.gs = data
        state.rflags = 0x202
        # At entry rsp + 8 is 16-byte aligned, as after a call; the return address on top.
        state.rsp = STACK_TOP - 0x1008
        self._write(state.rsp, struct.pack("<Q", RETURN_ADDRESS))
        state.rip = self._entry if symbol_address is None else symbol_address
        registers = ["rdi", "rsi", "rdx", "rcx", "r8", "r9"]
        if len(args) > len(registers):
            raise EmulationError("at most six integer arguments")
        for name, value in zip(registers, args):
            setattr(state, name, value)
        session.cpu.state = state

        faults = []

        def on_exception(sess, _cpu, vector, error_code):
            faults.append((vector, error_code, sess.cpu.rip))
            sess.stop()

        hook = bochscpu.Hook()
        hook.hlt = lambda sess, _cpu: sess.stop()
        hook.exception = on_exception
        session.run([hook])
        if faults:
            vector, error_code, rip = faults[0]
            names = {0: "#DE divide error", 6: "#UD invalid opcode", 13: "#GP general protection",
                     14: "#PF page fault", 19: "#XM SIMD floating-point"}
            raise EmulationError(
                f"{model}: CPU exception {names.get(vector, vector)} (error code {error_code}) "
                f"at rip {rip:#x}")
        if session.cpu.rip != RETURN_ADDRESS + 1:
            raise EmulationError(f"{model}: stopped at {session.cpu.rip:#x}, not after returning")
        return session.cpu.rax


def shim_path(venv):
    return os.path.join(venv, "lib", "latentbus-bochscpu-shim.so")
