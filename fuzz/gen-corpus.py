#!/usr/bin/env python3
"""Write the fuzzers' seed corpora (fuzz/corpus/<fuzzer>/seed-*).

Each seed is a small program in the fuzzer's input language, encoded
here the way the harness decodes it, so that libFuzzer starts from
inputs that reach deep paths (a mapped and attached IOAS, a nested
vIOMMU, a walked stage-1 table, a command queue with an error) instead
of discovering them byte by byte.  Run from anywhere; rewrites the
corpus directories.
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def u8(*v):
    return bytes(v)


def u32(v):
    return struct.pack("<I", v & 0xFFFFFFFF)


def u64(v):
    return struct.pack("<Q", v & 0xFFFFFFFFFFFFFFFF)


# --- fuzz_uapi --------------------------------------------------------------
# cmds[] order in fuzz_uapi.c
(DESTROY, IOAS_ALLOC, ALLOW_IOVAS, COPY, IOVA_RANGES, MAP, UNMAP, OPTION,
 VFIO_IOAS, HWPT_ALLOC, GET_HW_INFO, SET_DIRTY, GET_DIRTY, INVALIDATE,
 FAULT_QUEUE, MAP_FILE, VIOMMU, VDEVICE, CHANGE_PROCESS, VEVENTQ, HW_QUEUE,
 NOIOMMU) = range(22)

ID_SEEN = lambda i: u8(i)      # pick_id: ids[i % n] while < 200
PAGES = lambda n: u8(3 | n << 3)  # shape_num: n (< 32) pages
ZERO = u8(2)                   # shape_num: 0
ALL = u8(1)                    # shape_num: UINT64_MAX
GOOD_ARG = u8(4)               # arg_ptr: our argument page
DATA = lambda off: u8(8, off)  # user_ptr: data page + off * 8
MAPPG = lambda pg: u8(8, pg)   # user_ptr for IOAS_MAP: page pg


def cmd(idx, body, fix):
    """op byte, size mode (full), struct bytes, fixups, arg pointer"""
    return u8(idx) + u8(0) + body + fix + GOOD_ARG


def ioas_alloc():
    return cmd(IOAS_ALLOC, bytes(12), b"")


def ioas_map(ioas, pages, iova_pages, fixed=True):
    body = u32(40) + u32((1 if fixed else 0) | 2 | 4) + bytes(32)
    return cmd(MAP, body, ID_SEEN(ioas) + PAGES(pages) + PAGES(iova_pages) +
               MAPPG(0))


def ioas_unmap_all(ioas):
    return cmd(UNMAP, bytes(24), ID_SEEN(ioas) + ZERO + ALL)


def bind(dev):
    return u8(216 + dev)  # op_device: bind


def attach(dev, id_idx):
    # op_device: raw id byte, then pick_id's selector, then attach/replace
    return u8(220 + dev) + u8(0) + ID_SEEN(id_idx) + u8(0)


def dma(dev, iova_pages, write):
    return u8(232 + dev) + bytes(8) + PAGES(iova_pages) + \
        u8(1 if write else 0) + u8(63)


def uapi_seeds():
    s = {}
    # map, copy, unmap on one IOAS; pins counted (caps 0)
    s["map-unmap"] = (u8(0) + ioas_alloc() + ioas_map(0, 4, 16) +
                      cmd(COPY, u32(40) + u32(7) + bytes(32), ID_SEEN(0) + ID_SEEN(0) +
                          PAGES(2) + PAGES(24) + PAGES(16)) +
                      cmd(IOVA_RANGES, bytes(32), ID_SEEN(0) + DATA(0)) +
                      ioas_unmap_all(0))
    # a device bound and attached, DMA both ways, then an unmap under it
    s["attach-dma"] = (u8(1) + bind(0) + ioas_alloc() + ioas_map(1, 8, 0) +
                       attach(0, 1) + dma(0, 1, True) + dma(0, 2, False) +
                       cmd(GET_HW_INFO, u32(40) + bytes(4) + bytes(4) +
                           u32(40) + bytes(24), ID_SEEN(0) + DATA(4)) +
                       ioas_unmap_all(1) + dma(0, 1, False))
    # nesting parent, vIOMMU, vDEVICE, vEVENTQ, fault queue, nested HWPT
    hwpt_parent = u32(48) + u32(1) + bytes(40)
    viommu = u32(40) + u32(0) + u32(1) + bytes(28)
    vdev = u32(24) + bytes(12) + u64(5)
    veventq = u32(32) + u32(0) + u32(0) + u32(1) + u32(8) + bytes(12)
    nested = (u32(48) + u32(0) + bytes(16) + u32(2) + u32(16) + bytes(16))
    # a vSTE: V, Config 0b101 (S1 translate) pointing at IPA 0
    vste = u8(248, 0) + u64(0xB) + bytes(24)
    # and at data + 32 one invalidation command: CMD_TLBI_NH_ASID, ASID 0
    vste += u8(248, 2) + u64(0x11) + bytes(24)
    s["nested"] = (u8(0) + bind(0) + ioas_alloc() + ioas_map(1, 4, 0) +
                   cmd(HWPT_ALLOC, hwpt_parent,
                       ID_SEEN(0) + ID_SEEN(1) + u8(255) + DATA(0)) +
                   attach(0, 2) +
                   cmd(VIOMMU, viommu, ID_SEEN(0) + ID_SEEN(2) + DATA(0)) +
                   cmd(VDEVICE, vdev, ID_SEEN(3) + ID_SEEN(0)) +
                   cmd(VEVENTQ, veventq, ID_SEEN(3)) +
                   cmd(FAULT_QUEUE, bytes(16), b"") + vste +
                   cmd(HWPT_ALLOC, nested,
                       ID_SEEN(0) + ID_SEEN(3) + u8(255) + DATA(0)) +
                   cmd(INVALIDATE, u32(32) + bytes(4) + bytes(8) + u32(1) +
                       u32(16) + u32(1) + bytes(4), ID_SEEN(3) + DATA(4)) +
                   u8(241) + u8(0) + ID_SEEN(5) + u8(8) + DATA(0))
    # dirty tracking on a paging HWPT, then a bitmap read
    s["dirty"] = (u8(2) + bind(1) + ioas_alloc() + ioas_map(1, 4, 0) +
                  cmd(HWPT_ALLOC, u32(48) + u32(2) + bytes(40),
                      ID_SEEN(0) + ID_SEEN(1) + u8(255) + DATA(0)) +
                  attach(1, 2) +
                  cmd(SET_DIRTY, u32(16) + u32(1) + bytes(8), ID_SEEN(2)) +
                  dma(1, 1, True) +
                  cmd(GET_DIRTY, bytes(48), ID_SEEN(2) + ZERO + PAGES(8) +
                      PAGES(1) + DATA(8)))
    # sizes and pointers the kernel rejects; an unknown command
    s["bad-args"] = (u8(0) + u8(IOAS_ALLOC, 170) + bytes(12) + GOOD_ARG +
                     u8(IOAS_ALLOC, 177) + bytes(12) + u8(9) + GOOD_ARG +
                     u8(IOAS_ALLOC, 0) + bytes(12) + u8(0) +
                     u8(IOAS_ALLOC, 0) + bytes(12) + u8(2) +
                     u8(OPTION, 0) + u32(24) + bytes(20) + u8(250) +
                     GOOD_ARG + u8(202, 0x7f, 0x99) + bytes(64) + GOOD_ARG)
    s["map-file"] = (u8(0) + ioas_alloc() +
                     cmd(MAP_FILE, u32(40) + u32(6) + bytes(32),
                         ID_SEEN(0) + ZERO + PAGES(2) + PAGES(8) + u8(1)) +
                     ioas_unmap_all(0))
    return s


# --- fuzz_smmu / fuzz_cmdq --------------------------------------------------
def arena_pa(off):
    """fz_machine_pa for arena + off (off a multiple of 32, < 256 KiB)."""
    return u8(((off >> 5) & 31) << 3, off >> 10)


def smmu_seeds():
    s = {}
    cfg = u8(0, 0, 0x10)  # every feature, 16-bit StreamIDs
    bringup = u8(7) + u8(6, 0x78) + u8(0)  # linear 64 STEs, queues on
    cd_off = 12800
    # STE 0: stage 1 only, CD at cd_off
    ste = u8(2) + u8(0) + u8(5) + arena_pa(cd_off) + u8(0) + u32(0) + \
        u64(0) + arena_pa(0)
    # CD: T0SZ 25, 4K, EPD1, IPS 48 bits, R, A; TTB0 -> page 20
    cd0 = 25 | 1 << 30 | 5 << 32 | 1 << 45 | 1 << 46
    cd = u8(3) + u8(cd_off // 64) + u64(cd0) + arena_pa(20 * 4096) + \
        arena_pa(0) + u64(0)
    # tables: page 20 -> page 21 -> page 22 -> leaves at pages 30..
    tables = (u8(4, 20, 21, 1, 0x03, 0, 0) + u8(4, 21, 22, 1, 0x03, 0, 0) +
              u8(4, 22, 30, 16, 0x43, 0, 1))
    # CFGI_ALL, TLBI_NSNH_ALL, CMD_SYNC (indices into op_command's ops[])
    inv = u8(8) + u8(3) + u64(0) + u64(31) + u8(8) + u8(16) + u64(0) + \
        u64(0) + u8(8) + u8(21) + u64(0) + u64(0)
    txn = u8(11) + u8(0, 0) + u8(2, 0) + u8(0)
    dma_rd = u8(13) + u8(0, 0) + u8(2, 0) + u8(0) + u8(0, 16)
    dma_wr = u8(13) + u8(0, 0) + u8(6, 0) + u8(1) + u8(0, 16)
    copy = u8(15) + u8(0, 16) + u8(0, 0) + u8(2, 0) + u8(1) + \
        u8(0, 0) + u8(6, 0) + u8(0)
    s["s1-walk"] = cfg + bringup + ste + cd + tables + inv + txn + \
        dma_rd + dma_wr + copy + u8(10, 7)
    # walk, then rewrite a leaf, invalidate all and compare with a new SMMU
    leaf = u8(140) + u8(0x00, (22 * 4096 // 8) >> 8) + u64(0x443) + \
        arena_pa(40 * 4096)
    s["differential"] = cfg + bringup + ste + cd + tables + txn + leaf + \
        u8(18, 2) + u8(0, 0) + u8(2, 0) + u8(0) + u8(0, 0) + u8(6, 0) + \
        u8(1) + u8(0, 0) + u8(2, 0) + u8(4)
    # bypass STE and a DMA into the arena; then an abort STE
    s["bypass"] = cfg + bringup + u8(2, 1, 4) + arena_pa(0) + u8(0) + \
        u32(0) + u64(0) + arena_pa(0) + inv + \
        u8(13, 1, 0, 1, 0x50, 0, 0, 0x10) + u8(2, 1, 0) + arena_pa(0) + \
        u8(0) + u32(0) + u64(0) + arena_pa(0) + inv + \
        u8(11, 1, 0, 1, 0x40, 0)
    # tables pointing into the canary and the guard page: aborts only
    s["hostile"] = cfg + bringup + ste + cd + \
        u8(4, 20, 21, 1, 0x03, 0, 0) + u8(140) + u8(0x00, 0x2A) + \
        u64(3) + u8(5, 0) + inv + txn + dma_wr + u8(13) + u8(0, 0) + \
        u8(2, 0) + u8(0) + u8(0, 16)
    # ATS and PRI configured: a translation request, a page request
    s["ats-pri"] = u8(0xc0, 0, 0x10) + bringup + ste + cd + tables + \
        u8(16, 1, 0, 0, 2, 0, 1) + u8(16, 0x40, 0, 0, 2, 0, 5) + \
        u8(8, 18) + u64(0) + u64(2 << 12) + u8(10, 7)
    # raw registers, a 2-level stream table, event queue overflow
    s["regs"] = u8(0, 0, 0x10) + u8(7, 0x86, 0x00, 0) + \
        u8(145, 6) + u64(0) + u8(5, 0) + u32(0xf) + u8(6, 0, 0, 0, 0) + \
        u8(146, 0x24, 0, 0, 0) + txn * 8 + u8(10, 1)
    return s


def cmdq_seeds():
    s = {}
    base = u8(0, 0, 0x10) + u8(0, 3)  # every feature, 16 commands
    sync = u8(0x00, 0x00)             # single, clean CMD_SYNC
    ill = u8(0x00, 0xff) + u64(0x7f) + u64(0)  # opcode 0x7f
    s["sync-ill-ack"] = base + sync + ill + u8(0x10, 0x00) + u8(0xc0, 0) + \
        u8(0xc0, 1) + sync
    s["batch"] = base + u8(0x84) + u8(0x01, 0x02, 0x06, 0x00, 0x05) + sync
    s["atc-fail"] = u8(0x40, 0, 0x10) + u8(0, 3) + u8(0xe1) + \
        u8(0x00, 0x53) + u64(0) + u64(0) + sync + sync + u8(0xc0, 0)
    s["no-stall"] = base[:3] + u8(1, 2) + u8(0x00, 0x56) + u64(0) + \
        u64(0) + u8(0xc0, 0) + sync
    s["wrap"] = base + (u8(0x8f) + bytes(16)) * 3 + u8(0xc0, 1)
    return s


# --- fuzz_vfio --------------------------------------------------------------
# header bits: compat, caps (2), entry limit (2), no set-up, second group,
# device fd (type1); then pick_type, then operations
V_COMPAT, V_LIMIT1, V_NOSTART, V_GROUP2, V_DEVFD = 1, 0x08, 0x20, 0x40, 0x80
T_V2, T_V1, T_NESTING = u8(0), u8(3), u8(5)
V_ARG = u8(4)                   # place_arg: the argument page
V_PAGES = lambda n: u8(n << 3 | 6)        # shape_num: n (< 32) pages
V_LEN = lambda n: u8((n - 1) << 3 | 6)    # shape_num, length: 1..8 pages
V_BITMAP = u8(5)                # bitmap_data: the bitmap page


def v_map(iova, n, vpage, flags=3):
    return u8(0, flags) + V_PAGES(iova) + V_LEN(n) + u8(6, vpage) + V_ARG


def v_map_bad(iova, n, va_class):
    return u8(0, 3) + V_PAGES(iova) + V_LEN(n) + u8(va_class, 1) + V_ARG


def v_unmap(iova, n, f=0):
    return u8(60, f, 32) + V_PAGES(iova) + V_LEN(n) + V_BITMAP + V_ARG


def v_unmap_dirty(iova, n):
    return u8(60, 1, 32) + V_PAGES(iova) + V_LEN(n) + V_BITMAP + V_ARG


def v_unmap_all():
    return u8(60, 0x38, 32) + V_PAGES(0) + V_LEN(1) + V_BITMAP + V_ARG


def v_info(mode=4):
    return u8(100, mode) + u32(0) + V_ARG


def v_dirty(flag_idx, iova=0):   # 0 START, 1 STOP, 2 GET_BITMAP (32 pages)
    return u8(112, flag_idx, 16) + V_PAGES(iova) + V_BITMAP + V_ARG


def v_dma(dev, entry, off, write):
    return u8(200, dev | (2 if write else 0), entry) + struct.pack("<H", off)


def v_group(action, dev):        # 0 join, 1 leave, 2 device fd, 3 close it
    return u8(216 + dev + 2 * action)


def vfio_seeds():
    s = {}
    s["type1v2-dirty"] = u8(0) + T_V2 + v_map(0, 4, 0) + \
        v_map(8, 2, 4, flags=1) + v_map(16, 1, 6, flags=2) + \
        v_dma(0, 0, 3, False) + v_dma(0, 1, 9, True) + v_info() + \
        v_dirty(0) + v_dirty(2) + v_unmap_dirty(0, 4) + v_dirty(1) + \
        v_info(3) + v_unmap(8, 1) + v_unmap_all() + v_dma(0, 0, 0, False)
    s["type1v1-split"] = u8(0) + T_V1 + v_map(0, 4, 0) + v_map(4, 4, 8) + \
        v_unmap(2, 1) + v_unmap(4, 8) + v_dma(0, 0, 600, False) + \
        v_unmap(0, 1) + u8(112, 0, 16) + V_PAGES(0) + V_BITMAP + V_ARG + \
        v_info(1)
    s["type1-groups"] = u8(V_GROUP2 | V_DEVFD) + T_V2 + v_map(0, 2, 0) + \
        v_dma(1, 0, 1, True) + v_group(1, 0) + v_group(3, 0) + \
        v_group(1, 0) + v_dma(1, 0, 5, False) + v_group(0, 0) + \
        v_dma(0, 0, 7, False) + v_group(1, 0) + v_group(1, 1) + \
        v_map(0, 1, 0) + v_group(0, 1) + u8(141) + T_V1 + v_map(0, 1, 0)
    s["type1-vaddr"] = u8(0) + T_V2 + v_map(0, 2, 0) + v_map(2, 2, 2) + \
        u8(130, 10) + v_unmap(0, 4, f=4) + v_group(0, 1) + \
        v_unmap(0, 2, f=4) + v_map(0, 2, 5, flags=4) + \
        v_dma(0, 0, 1, False) + v_unmap(0, 2)
    s["type1-limit"] = u8(V_LIMIT1) + T_V2 + v_map(0, 1, 0) + \
        v_map(4, 1, 1) + v_info() + v_unmap(0, 1) + v_map(4, 1, 1)
    s["type1-nesting"] = u8(V_GROUP2) + T_NESTING + u8(130, 6) + \
        u8(141) + T_V2 + u8(130, 4) + u8(138) + u8(148, 0) + v_map(0, 1, 0)
    s["type1-bad"] = u8(0) + T_V2 + v_map_bad(0, 1, 0) + \
        v_map_bad(1, 1, 1) + v_map_bad(2, 1, 2) + v_map_bad(3, 4, 3) + \
        v_map(4, 1, 0)[:-1] + u8(0) + v_map(4, 1, 0)[:-1] + u8(2) + \
        v_info()[:-1] + u8(3) + v_unmap(4, 1)[:-1] + u8(2)
    s["type1-close"] = u8(V_GROUP2) + T_V2 + v_map(0, 1, 0) + u8(232) + \
        v_dma(1, 0, 0, False) + v_group(1, 0) + v_dma(1, 0, 0, True) + \
        v_group(1, 1)
    s["compat-v2"] = u8(V_COMPAT) + T_V2 + v_map(0, 4, 0) + \
        v_map(4, 2, 6) + v_dma(0, 0, 2, False) + v_dma(0, 1, 3, True) + \
        v_unmap(1, 1) + v_unmap(4, 2) + v_info() + v_dirty(0) + \
        v_unmap_all() + v_group(3, 0) + v_map(2, 1, 0) + v_group(2, 0)
    s["compat-v1-cut"] = u8(V_COMPAT | V_GROUP2) + T_V1 + v_map(0, 8, 0) + \
        v_unmap(2, 1) + v_dma(0, 0, 300, False) + v_unmap(5, 2) + \
        v_group(2, 1) + v_dma(1, 1, 9, True) + v_unmap(0, 8) + v_info(3)
    # mapped with no device, the last two pages PROT_NONE and read-only
    # (page 14 on), those two unmapped, then the device fd: pinning is
    # per area, so the attach pins pages 14-15 only and succeeds
    s["compat-v1-cut-attach"] = u8(V_COMPAT | V_NOSTART) + \
        v_group(0, 0) + u8(141) + T_V1 + v_map_bad(16, 4, 3) + \
        v_unmap(18, 2) + v_group(2, 0) + v_dma(0, 0, 100, False) + \
        v_dma(0, 0, 900, True) + v_unmap(16, 2)
    return s


def write(name, seeds):
    d = os.path.join(HERE, "corpus", name)
    os.makedirs(d, exist_ok=True)
    for f in os.listdir(d):
        if f.startswith("seed-"):
            os.remove(os.path.join(d, f))
    for k, v in seeds.items():
        with open(os.path.join(d, "seed-" + k), "wb") as f:
            f.write(v)


write("fuzz_uapi", uapi_seeds())
write("fuzz_smmu", smmu_seeds())
write("fuzz_cmdq", cmdq_seeds())
write("fuzz_vfio", vfio_seeds())
