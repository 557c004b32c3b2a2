// SPDX-License-Identifier: MIT
/*
 * A transaction's path through the SMMU (section 3.3): global bypass or
 * abort while SMMUEN == 0, the STE, SubstreamID checks, the CD, stage 1,
 * stage 2 — recording the event of whatever stops it — and the access
 * itself through the bus.
 *
 * A transaction whose STE, CD and translation are all cached takes the
 * hit path: a few loads, no lock, no bus section.  Anything else walks
 * inside one bus section, so that a CMD_SYNC after an invalidation can
 * wait for every walk (and every DMA) that might still use what was
 * invalidated.  Events are recorded after the section ends: recording
 * may call the interrupt callback, which may issue commands.  An event
 * to record is counted before its section ends, so that the CMD_SYNC
 * waits for the record as well (stall.c).
 *
 * A fault on a stage configured to stall holds the transaction (stall.c):
 * it takes its slot inside the section, its record carries Stall and the
 * STAG, the device's thread waits for software's answer outside the bus
 * section, and a retry starts over.
 */
#include <errno.h>
#include <string.h>

#include "smmu_port.h"
#include "smmu_txn.h"

/*
 * Does @f stall the transaction?  Only the four translation-related
 * faults do, by the configuration of the stage that faulted (a stage-2
 * fault of a stage-1 walk or CD fetch included; section 3.12).
 */
static bool stalls(const struct smmu_fault *f, const struct smmu_s1 *s1,
		   const struct smmu_s2 *s2)
{
	if (!smmu_xlate_fault(f->id))
		return false;
	return f->s2 ? s2 && s2->stall : s1 && s1->stall;
}

void smmu_record_fault(struct smmu_pending *p, const struct sio_smmu_txn *txn,
		       const struct smmu_access *acc,
		       const struct smmu_fault *f)
{
	/* Built even when not recorded: an explanation shows it. */
	smmu_event_init(&p->ev, f->id, txn);
	smmu_event_fault(&p->ev, acc, f);
	/* A stall is always recorded: R is taken as 1. */
	p->set = f->record || p->stall;
}

void smmu_cfg_event(struct smmu_event *ev, const struct sio_smmu_txn *txn,
		    const struct smmu_cfg_fault *cf)
{
	smmu_event_init(ev, cf->id, txn);
	switch (cf->id) {
	case EVT_F_STE_FETCH:
	case EVT_F_CD_FETCH:
		ev->d[3] = cf->fetch & EVT3_FETCH;
		break;
	case EVT_C_BAD_SUBSTREAMID:
		/* Always the SubstreamID, with no SSV qualifier. */
		ev->d[0] &= ~(EVT0_SSV | EVT0_SSID);
		ev->d[0] |= FIELD_PREP(EVT0_SSID, cf->ssid);
		break;
	case EVT_F_STREAM_DISABLED:
		ev->d[0] &= ~(EVT0_SSV | EVT0_SSID);
		break;
	}
	/* The record of a configuration error carries nothing else. */
}

static void record_cfg(struct sio_smmu *smmu, struct smmu_pending *p,
		       const struct sio_smmu_txn *txn,
		       const struct smmu_access *acc,
		       const struct smmu_cfg_fault *cf)
{
	if (cf->s2fault) {
		smmu_record_fault(p, txn, acc, &cf->fault);
		return;
	}
	p->stall = false;
	smmu_cfg_event(&p->ev, txn, cf);
	/* C_BAD_STREAMID is recorded only when software asks for it. */
	p->set = cf->id != EVT_C_BAD_STREAMID ||
		 (atomic_load(&smmu->cr2) & CR2_RECINVSID);
}

static int abort_with(struct sio_smmu_result *res, uint8_t id)
{
	res->event = id;
	return -EFAULT;
}

static struct smmu_access access_of(const struct sio_smmu_txn *txn)
{
	return (struct smmu_access){
		.input = txn->addr,
		.write = txn->attr & SIO_SMMU_WRITE,
		/* Writes are data, whatever the transaction says. */
		.instr = (txn->attr & SIO_SMMU_EXEC) &&
			 !(txn->attr & SIO_SMMU_WRITE),
		.priv = txn->attr & SIO_SMMU_PRIV,
	};
}

static void result_from(struct sio_smmu_result *res, const struct tlb_ent *e,
			uint64_t key, bool write)
{
	uint64_t off = key - e->va;

	res->pa = e->pa + off;
	res->size = (1ull << e->log2size) - off;
	res->perm = write ? SIO_MEM_WRITE : SIO_MEM_READ;
	res->event = 0;
}

/*
 * The hit path, below the micro-TLB: STE, CD and TLB from the caches.
 * Always inlined: sio_smmu_translate_explain() asks it too, and the hit
 * path must not pay a call for that.
 */
static inline __attribute__((always_inline)) int
tlb_hit(struct sio_smmu *smmu, const struct sio_smmu_txn *txn, uint64_t need,
	struct sio_smmu_result *res, uint64_t *perm)
{
	bool write = txn->attr & SIO_SMMU_WRITE;
	struct smmu_cfg_fault cf;
	uint64_t sh, ch = 0, key;
	struct tlb_ent e;
	uint32_t vmid;
	uint32_t idx;
	int rc = 1;

	if (!cfgc_ste_hot(smmu, txn->sid, &sh) || (sh & STE_HOT_ABORT))
		return 1;
	vmid = (uint32_t)FIELD_GET(STE_HOT_VMID, sh);
	if (sh & STE_HOT_S1) {
		rc = smmu_cd_index(smmu,
				   (unsigned int)FIELD_GET(STE_HOT_CDMAX, sh),
				   (unsigned int)FIELD_GET(STE_HOT_S1DSS, sh),
				   txn, &idx, &cf);
		if (rc < 0 ||
		    (rc == 0 && !cfgc_cd_hot(smmu, txn->sid, idx, &ch)))
			return 1;
	}
	if (rc == 0) {
		key = tlb_va_key(txn->addr);
		if (key != txn->addr &&
		    !(ch & ((key >> 55) & 1 ? CD_HOT_TBI1 : CD_HOT_TBI0)))
			return 1;
		uint16_t asid = (uint16_t)FIELD_GET(CD_HOT_ASID, ch);

		if (!tlb_lookup(smmu, TLB_KIND_S1, vmid, asid, key,
				tlb_epochs(smmu->tlb, vmid),
				tlb_asid_epoch(smmu->tlb, vmid, asid), &e) ||
		    !(e.perm & need))
			return 1;
		result_from(res, &e, key, write);
		*perm = e.perm;
		return 0;
	}
	if (!(sh & STE_HOT_S2) ||
	    (smmu->oas < 64 && (txn->addr >> smmu->oas)) ||
	    !tlb_lookup(smmu, TLB_KIND_S2, vmid, 0, txn->addr,
			tlb_epochs(smmu->tlb, vmid), 0, &e) ||
	    !(e.perm & need))
		return 1;
	result_from(res, &e, txn->addr, write);
	*perm = e.perm;
	return 0;
}

/* A device port's own entry for @txn's address, if it has a live one. */
static bool port_lookup(const struct smmu_port_cache *pc,
			const struct sio_smmu_txn *txn, uint64_t need,
			uint64_t gen, struct sio_smmu_result *res)
{
	uint64_t k1 = utlb_key1(txn), a = txn->addr;

	for (unsigned int i = 0; i < SMMU_PORT_WAYS; i++) {
		const struct smmu_port_ent *e = &pc->ent[i];

		if (e->gen != gen || e->key1 != k1 || e->ssv != txn->ssv ||
		    a < e->first || a > e->last || !(e->perm & need))
			continue;
		res->pa = e->pa + (a - e->first);
		res->size = e->last - a + 1;
		res->perm = txn->attr & SIO_SMMU_WRITE ? SIO_MEM_WRITE
						       : SIO_MEM_READ;
		res->event = 0;
		return true;
	}
	return false;
}

static void port_fill(struct smmu_port_cache *pc,
		      const struct sio_smmu_txn *txn,
		      const struct sio_smmu_result *res, uint64_t perm,
		      uint64_t gen)
{
	struct smmu_port_ent *e = &pc->ent[pc->next++ % SMMU_PORT_WAYS];

	*e = (struct smmu_port_ent){
		.gen = gen,
		.key1 = utlb_key1(txn),
		.ssv = txn->ssv,
		.first = txn->addr,
		.last = txn->addr + (res->size - 1),
		.pa = res->pa,
		.perm = perm,
	};
}

/*
 * The hit path: 0 with @res filled, or 1 for anything it cannot decide.
 * With a device port's cache @pc, that is looked in first and filled
 * from what the shared caches answer.
 */
static int translate_hit(struct sio_smmu *smmu, struct smmu_port_cache *pc,
			 const struct sio_smmu_txn *txn,
			 struct sio_smmu_result *res)
{
	bool write = txn->attr & SIO_SMMU_WRITE;
	uint64_t need = tlb_need(write, (txn->attr & SIO_SMMU_EXEC) && !write,
				 txn->attr & SIO_SMMU_PRIV);
	uint64_t off = txn->addr & 0xfff, gen, perm;

	/* Not a translation to look up: the ATS checks decide (ats.c). */
	if (txn->attr & SIO_SMMU_TRANSLATED)
		return 1;
	if (!(atomic_load_explicit(&smmu->cr0, memory_order_acquire) &
	      CR0_SMMUEN))
		return 1;
	/* Before any lookup: see smmu_cache.h. */
	gen = utlb_gen(smmu);
	/*
	 * Callers without a port have probed the micro-TLB already
	 * (utlb_hit()); a port caches whole leaves, which only the TLB
	 * knows, so it skips the micro-TLB.
	 */
	if (pc && port_lookup(pc, txn, need, gen, res))
		return 0;
	if (tlb_hit(smmu, txn, need, res, &perm))
		return 1;
	/* Remember what the page allows, for the next access to it. */
	utlb_fill(smmu, txn, ((res->pa - off) & ~0xfffull) | perm, gen);
	if (pc)
		port_fill(pc, txn, res, perm, gen);
	return 0;
}

int smmu_get_ste(struct smmu_walk *w, uint32_t sid, struct smmu_ste *ste,
		 struct smmu_cfg_fault *cf)
{
	/* An explanation fetches, and leaves the cache as it was. */
	if (!w->trace && cfgc_ste_get(w->smmu, sid, ste))
		return 0;
	if (smmu_ste_fetch(w->smmu, sid, ste, cf, w->trace))
		return -1;
	if (!w->trace)
		cfgc_ste_put(w->smmu, sid, ste, w->gen);
	return 0;
}

int smmu_get_cd(struct smmu_walk *w, const struct smmu_ste *ste,
		const struct sio_smmu_txn *txn, const struct smmu_access *acc,
		struct smmu_s1 *s1, struct smmu_cfg_fault *cf)
{
	uint32_t idx;
	int rc =
		smmu_cd_index(w->smmu, ste->s1cdmax, ste->s1dss, txn, &idx, cf);

	if (rc)
		return rc;
	if (!w->trace && cfgc_cd_get(w->smmu, txn->sid, idx, s1))
		return 0;
	if (smmu_cd_load(w, ste, txn, acc, idx, s1, cf))
		return -1;
	if (!w->trace)
		cfgc_cd_put(w->smmu, txn->sid, idx, s1, w->gen);
	return 0;
}

/* Cache a stage-1 (or combined) translation, as a TLB entry. */
static void s1_fill(struct smmu_walk *w, const struct smmu_s1 *s1,
		    const struct smmu_leaf *l1, const struct smmu_leaf *l2,
		    uint64_t va, uint64_t pa)
{
	uint64_t size = l2 && l2->size < l1->size ? l2->size : l1->size;
	uint64_t key = tlb_va_key(va);
	struct tlb_ent e = {
		.va = key & ~(size - 1),
		.pa = pa - (key & (size - 1)),
		.log2size = (unsigned int)__builtin_ctzll(size),
		.kind = TLB_KIND_S1,
		.vmid = w->vmid,
		.asid = s1->asid,
		.global = l1->global,
		.tg = l1->tg,
		.level = l1->level,
		.perm = l2 ? (l1->perm & l2->perm & TLB_RWX) |
					(l2->perm & TLB_DEVICE)
			   : l1->perm,
		.asid_epoch =
			walk_asid_epoch(w, TLB_KIND_S1, w->vmid, s1->asid),
	};

	tlb_insert(w->smmu, &e, w->gen);
}

/*
 * The walk path, inside the caller's bus section @g; with @trace, the
 * walk of an explanation (sio_smmu_translate_explain()).
 */
static int translate_walk(struct sio_smmu *smmu, struct sio_mem_guard *g,
			  const struct sio_smmu_txn *txn,
			  struct sio_smmu_result *res, struct smmu_pending *p,
			  struct smmu_trace *trace)
{
	struct smmu_access acc = access_of(txn);
	struct smmu_walk w = {
		.smmu = smmu, .g = g, .gen = smmu_gen(smmu), .trace = trace};
	struct smmu_cfg_fault cf = {0};
	struct smmu_leaf l1, l2;
	struct smmu_fault f;
	struct smmu_ste ste;
	struct smmu_s1 s1;
	uint64_t ipa = txn->addr, size = ~0ull;
	bool s1_on;
	int rc;

	if (txn->attr & SIO_SMMU_TRANSLATED)
		return smmu_translated_walk(smmu, g, txn, res, p);
	res->event = 0;
	res->perm = acc.write ? SIO_MEM_WRITE : SIO_MEM_READ;
	if (!(atomic_load(&smmu->cr0) & CR0_SMMUEN)) {
		/* Disabled: GBPA decides, and no event is recorded. */
		if (atomic_load(&smmu->gbpa) & GBPA_ABORT)
			return -EFAULT;
		res->pa = txn->addr;
		res->size = -txn->addr ? -txn->addr : ~0ull;
		return 0;
	}
	if (smmu_get_ste(&w, txn->sid, &ste, &cf)) {
		record_cfg(smmu, p, txn, &acc, &cf);
		return abort_with(res, cf.id);
	}
	if (ste.abort)
		return -EFAULT; /* Config 0b000: silently */
	w.vmid = smmu_ste_vmid(smmu, &ste);
	s1_on = ste.s1;
	if (s1_on) {
		rc = smmu_get_cd(&w, &ste, txn, &acc, &s1, &cf);
		if (rc < 0) {
			p->stall = cf.s2fault &&
				   stalls(&cf.fault, NULL,
					  ste.s2 ? &ste.s2cfg : NULL);
			record_cfg(smmu, p, txn, &acc, &cf);
			return abort_with(res,
					  cf.s2fault ? cf.fault.id : cf.id);
		}
		s1_on = rc == 0;
	} else if (txn->ssv) {
		/* A SubstreamID without stage 1. */
		cf.id = EVT_C_BAD_SUBSTREAMID;
		cf.ssid = txn->ssid;
		record_cfg(smmu, p, txn, &acc, &cf);
		return abort_with(res, cf.id);
	}
	if (s1_on) {
		if (smmu_s1_translate(&w, &s1, ste.s2 ? &ste.s2cfg : NULL, &acc,
				      &l1, &f)) {
			p->stall = stalls(&f, &s1, ste.s2 ? &ste.s2cfg : NULL);
			smmu_record_fault(p, txn, &acc, &f);
			return abort_with(res, f.id);
		}
		ipa = l1.oa;
		size = smmu_remaining(l1.base, l1.size, txn->addr);
	} else if (ste.s2 && smmu->oas < 64 && (txn->addr >> smmu->oas)) {
		/* Stage 1 bypassed: the input must fit the IAS (== OAS). */
		f = (struct smmu_fault){.id = EVT_F_ADDR_SIZE,
					.class = EVT_CLASS_IN,
					.record = true};
		smmu_record_fault(p, txn, &acc, &f);
		return abort_with(res, f.id);
	}
	if (ste.s2) {
		w.no_s2_fill = s1_on;
		if (smmu_s2_translate(&w, &ste.s2cfg, ipa, EVT_CLASS_IN,
				      acc.write, &acc, &l2, &f)) {
			p->stall = stalls(&f, NULL, &ste.s2cfg);
			smmu_record_fault(p, txn, &acc, &f);
			return abort_with(res, f.id);
		}
		if (smmu_remaining(l2.base, l2.size, ipa) < size)
			size = smmu_remaining(l2.base, l2.size, ipa);
		ipa = l2.oa;
	}
	if (s1_on && !trace)
		s1_fill(&w, &s1, &l1, ste.s2 ? &l2 : NULL, txn->addr, ipa);
	res->pa = ipa;
	res->size = size;
	return 0;
}

void smmu_pending_hold(struct sio_smmu *smmu, const struct sio_smmu_txn *txn,
		       struct smmu_pending *p)
{
	if (p->stall) {
		p->counted = smmu_stall_reserve(smmu, txn->sid, &p->stag);
	} else if (p->set) {
		p->ticket = smmu_unrecorded_add(smmu);
		p->counted = true;
	}
}

void smmu_pending_record(struct sio_smmu *smmu, struct smmu_pending *p)
{
	struct smmu_evt_after after;

	if (!p->set)
		return;
	smmu_test_point(smmu, SMMU_TEST_UNRECORDED);
	smmu_event_put(smmu, &p->ev, &after);
	/*
	 * Before what follows, which may wait for smmu->lock: a CMD_SYNC
	 * may hold it, waiting for this record.
	 */
	if (p->counted)
		smmu_unrecorded_done(smmu, p->ticket);
	smmu_test_point(smmu, SMMU_TEST_WRITTEN);
	smmu_event_after(smmu, &after);
}

/*
 * After the bus section, a transaction that stalled: record its event
 * with a STAG and wait for software.  True if the transaction is to be
 * retried, false if it was terminated.
 */
static bool stall(struct sio_smmu *smmu, struct smmu_pending *p)
{
	/* No slot was free: wait for one, and start over. */
	if (!p->counted) {
		smmu_stall_wait_slot(smmu);
		return true;
	}
	smmu_test_point(smmu, SMMU_TEST_UNRECORDED);
	return smmu_stall_run(smmu, p->stag, &p->ev) == 0;
}

/*
 * The micro-TLB alone, inlined where transfers without a port start: a
 * hit costs no call into the general hit path and its frame, and that
 * path does not probe it again.  False: take the full path.
 */
static inline bool utlb_hit(struct sio_smmu *smmu,
			    const struct sio_smmu_txn *txn,
			    struct sio_smmu_result *res)
{
	bool write = txn->attr & SIO_SMMU_WRITE;
	uint64_t need = tlb_need(write, (txn->attr & SIO_SMMU_EXEC) && !write,
				 txn->attr & SIO_SMMU_PRIV);
	uint64_t off = txn->addr & 0xfff, v;

	if ((txn->attr & SIO_SMMU_TRANSLATED) ||
	    !(atomic_load_explicit(&smmu->cr0, memory_order_acquire) &
	      CR0_SMMUEN) ||
	    !utlb_lookup(smmu, txn, &v) || !(v & need))
		return false;
	res->pa = (v & ~0xfffull) | off;
	res->size = 4096 - off;
	res->perm = write ? SIO_MEM_WRITE : SIO_MEM_READ;
	res->event = 0;
	return true;
}

/*
 * Everything below the micro-TLB.  Kept out of line so that a micro-TLB
 * hit runs without this path's frame and saved registers.
 */
static __attribute__((noinline)) int
translate_full(struct sio_smmu *smmu, const struct sio_smmu_txn *txn,
	       struct sio_smmu_result *res)
{
	for (;;) {
		struct smmu_pending p = {.set = false, .stall = false};
		struct sio_mem_guard g;
		int rc;

		if (translate_hit(smmu, NULL, txn, res) == 0)
			return 0;
		sio_mem_enter(smmu->bus, &g);
		rc = translate_walk(smmu, &g, txn, res, &p, NULL);
		smmu_pending_hold(smmu, txn, &p);
		sio_mem_exit(smmu->bus, &g);
		if (!p.stall) {
			smmu_pending_record(smmu, &p);
			return rc;
		}
		/* A retried transaction starts over, as though new. */
		if (!stall(smmu, &p))
			return rc;
	}
}

int sio_smmu_translate(struct sio_smmu *smmu, const struct sio_smmu_txn *txn,
		       struct sio_smmu_result *res)
{
	if (utlb_hit(smmu, txn, res))
		return 0;
	return translate_full(smmu, txn, res);
}

/*
 * The translation of one piece of a transfer at @t's address, inside the
 * section @g: 0, -EFAULT (the fault pending in @p), or 1 when it stalled
 * and the section was left to wait for software: the caller starts the
 * piece over.
 */
static int piece_translate(struct sio_smmu *smmu, struct smmu_port_cache *pc,
			   struct sio_mem_guard *g,
			   const struct sio_smmu_txn *t,
			   struct sio_smmu_result *res, struct smmu_pending *p)
{
	int rc;

	if ((!pc && utlb_hit(smmu, t, res)) ||
	    !translate_hit(smmu, pc, t, res) ||
	    !translate_walk(smmu, g, t, res, p, NULL))
		return 0;
	smmu_pending_hold(smmu, t, p);
	if (!p->stall)
		return -EFAULT;
	sio_mem_exit(smmu->bus, g);
	rc = stall(smmu, p) ? 1 : -EFAULT; /* retried, or terminated */
	/* the stall's record is written: nothing pending any more */
	*p = (struct smmu_pending){.set = false, .stall = false};
	sio_mem_enter(smmu->bus, g);
	return rc;
}

/*
 * The bus section a port transfer runs in: the port's own, held across
 * several transfers (smmu_port_begin()), or one of the transfer's.
 */
static struct sio_mem_guard *xfer_enter(struct sio_smmu *smmu,
					struct smmu_port_cache *pc,
					struct sio_mem_guard *own)
{
	if (pc && pc->held)
		return &pc->g;
	sio_mem_enter(smmu->bus, own);
	if (pc)
		sio_mem_hint_load(own, &pc->hint);
	return own;
}

/*
 * The end of a transfer.  Its event is recorded outside any section: the
 * event queue's locks are taken by threads that wait for sections to end.
 * So a held section is left for that, and entered again.
 */
static void xfer_exit(struct sio_smmu *smmu, struct smmu_port_cache *pc,
		      struct sio_mem_guard *g, struct smmu_pending *p)
{
	bool held = pc && g == &pc->g;

	if (held && !p->set)
		return;
	if (pc)
		sio_mem_hint_save(g, &pc->hint);
	sio_mem_exit(smmu->bus, g);
	smmu_pending_record(smmu, p);
	if (held) {
		sio_mem_enter(smmu->bus, g);
		sio_mem_hint_load(g, &pc->hint);
	}
}

void smmu_port_begin(struct sio_smmu *smmu, struct smmu_port_cache *pc)
{
	sio_mem_enter(smmu->bus, &pc->g);
	sio_mem_hint_load(&pc->g, &pc->hint);
	pc->held = true;
}

void smmu_port_end(struct sio_smmu *smmu, struct smmu_port_cache *pc)
{
	pc->held = false;
	sio_mem_hint_save(&pc->g, &pc->hint);
	sio_mem_exit(smmu->bus, &pc->g);
}

int smmu_port_map(struct sio_smmu *smmu, struct smmu_port_cache *pc,
		  const struct sio_smmu_txn *txn, void **host, uint64_t *avail)
{
	bool write = txn->attr & SIO_SMMU_WRITE;
	struct smmu_pending p = {.set = false, .stall = false};
	struct sio_smmu_result res;
	bool left = false;
	int rc;

	while ((rc = piece_translate(smmu, pc, &pc->g, txn, &res, &p)) > 0)
		left = true;
	if (rc) {
		xfer_exit(smmu, pc, &pc->g, &p);
		return rc;
	}
	*host = sio_mem_span(&pc->g, res.pa, res.size,
			     write ? SIO_MEM_WRITE : SIO_MEM_READ, avail);
	if (!*host)
		return -EIO;
	return left;
}

/*
 * Transfers without a port share one bus lookup hint, the segment the
 * last of them found: DMA mostly keeps reaching the same guest memory.
 */
static void shared_hint_load(struct sio_smmu *smmu, struct sio_mem_guard *g)
{
	sio_mem_hint_load_word(g, atomic_load_explicit(&smmu->dma_hint,
						       memory_order_relaxed));
}

/* Only a changed hint is written: the line stays shared between threads. */
static void shared_hint_keep(struct sio_smmu *smmu,
			     const struct sio_mem_guard *g)
{
	uint64_t w = sio_mem_hint_word(g, g->hint);

	if (w != atomic_load_explicit(&smmu->dma_hint, memory_order_relaxed))
		atomic_store_explicit(&smmu->dma_hint, w, memory_order_relaxed);
}

/* A DMA's data: to the target for a write, from it for a read. */
static inline void dma_move(bool write, void *host, void *buf, size_t len)
{
	if (write)
		sio_mem_copy(host, buf, len);
	else
		sio_mem_copy(buf, host, len);
}

/*
 * Device DMA.  The whole transfer is one bus section: a CMD_SYNC that
 * follows an invalidation completes only once it is over.
 */
int smmu_port_dma(struct sio_smmu *smmu, struct smmu_port_cache *pc,
		  const struct sio_smmu_txn *txn, void *buf, size_t len,
		  size_t *done)
{
	bool write = txn->attr & SIO_SMMU_WRITE;
	struct sio_smmu_txn t = *txn;
	struct smmu_pending p = {.set = false, .stall = false};
	struct sio_mem_guard own, *g;
	size_t off = 0;
	int rc = 0;

	if (done)
		*done = 0;
	g = xfer_enter(smmu, pc, &own);
	if (!pc)
		shared_hint_load(smmu, g);
	while (off < len) {
		struct sio_smmu_result res;
		size_t chunk = len - off;
		void *host;

		t.addr = txn->addr + off;
		rc = piece_translate(smmu, pc, g, &t, &res, &p);
		if (rc > 0)
			continue;
		if (rc)
			break;
		if (res.size < chunk)
			chunk = (size_t)res.size;
		host = sio_mem_ptr(g, res.pa, chunk,
				   write ? SIO_MEM_WRITE : SIO_MEM_READ);
		/* The target aborted: the device sees an external abort. */
		if (!host) {
			rc = -EIO;
			break;
		}
		if (!pc && !off)
			shared_hint_keep(smmu, g);
		dma_move(write, host, (uint8_t *)buf + off, chunk);
		off += chunk;
		if (done)
			*done = off;
	}
	xfer_exit(smmu, pc, g, &p);
	return rc;
}

/*
 * A DMA engine's copy: each piece (up to the next translation boundary
 * of either side) read through @src's translation and written through
 * @dst's, memory to memory, in one bus section.  The read of a piece is
 * translated before its write, as the engine reads before it writes.
 */
int sio_smmu_dma_copy(struct sio_smmu *smmu, const struct sio_smmu_txn *dst,
		      const struct sio_smmu_txn *src, size_t len, size_t *done,
		      bool *dst_failed)
{
	struct sio_smmu_txn ts = *src, td = *dst;
	struct smmu_pending p = {.set = false, .stall = false};
	struct sio_mem_guard own, *g;
	size_t off = 0;
	int rc = 0;

	ts.attr &= ~SIO_SMMU_WRITE;
	td.attr |= SIO_SMMU_WRITE;
	*done = 0;
	*dst_failed = false;
	g = xfer_enter(smmu, NULL, &own);
	while (off < len) {
		struct sio_smmu_result rs, rd;
		size_t chunk = len - off;
		void *from, *to;

		ts.addr = src->addr + off;
		td.addr = dst->addr + off;
		rc = piece_translate(smmu, NULL, g, &ts, &rs, &p);
		if (rc > 0)
			continue;
		if (rc)
			break;
		if (rs.size < chunk)
			chunk = (size_t)rs.size;
		from = sio_mem_ptr(g, rs.pa, chunk, SIO_MEM_READ);
		if (!from) {
			rc = -EIO;
			break;
		}
		rc = piece_translate(smmu, NULL, g, &td, &rd, &p);
		if (rc > 0)
			continue;
		*dst_failed = true;
		if (rc)
			break;
		if (rd.size < chunk)
			chunk = (size_t)rd.size;
		to = sio_mem_ptr(g, rd.pa, chunk, SIO_MEM_WRITE);
		if (!to) {
			rc = -EIO;
			break;
		}
		*dst_failed = false;
		/* source and destination may overlap, as the engine allows */
		sio_mem_move(to, from, chunk);
		off += chunk;
		*done = off;
	}
	xfer_exit(smmu, NULL, g, &p);
	return rc;
}

/*
 * The common DMA, done without the general loop: all of it inside one
 * page the micro-TLB holds.  False, having touched nothing, for anything
 * else (including a micro-TLB miss): the general path decides it.  The
 * translation is made inside the section, as there.
 */
static bool dma_in_page(struct sio_smmu *smmu, const struct sio_smmu_txn *txn,
			void *buf, size_t len)
{
	bool write = txn->attr & SIO_SMMU_WRITE;
	struct sio_smmu_result res;
	struct sio_mem_guard g;
	void *host = NULL;

	sio_mem_enter(smmu->bus, &g);
	shared_hint_load(smmu, &g);
	if (utlb_hit(smmu, txn, &res) && res.size >= len) {
		const void *hint = g.hint;

		host = sio_mem_ptr(&g, res.pa, len,
				   write ? SIO_MEM_WRITE : SIO_MEM_READ);
		if (host) {
			if (g.hint != hint)
				shared_hint_keep(smmu, &g);
			dma_move(write, host, buf, len);
		}
	}
	sio_mem_exit(smmu->bus, &g);
	return host;
}

int sio_smmu_dma(struct sio_smmu *smmu, const struct sio_smmu_txn *txn,
		 void *buf, size_t len, size_t *done)
{
	if (len && dma_in_page(smmu, txn, buf, len)) {
		if (done)
			*done = len;
		return 0;
	}
	return smmu_port_dma(smmu, NULL, txn, buf, len, done);
}

/* The record's main fields, decoded for the explanation's reader. */
static void explain_event(struct sio_smmu_explain *ex,
			  const struct smmu_pending *p)
{
	const uint64_t *d = p->ev.d;

	memcpy(ex->evt, d, sizeof(ex->evt));
	ex->evt_id = (uint8_t)FIELD_GET(EVT0_ID, d[0]);
	ex->evt_recorded = p->set;
	ex->evt_s2 = d[1] & EVT1_S2;
	ex->evt_class = (uint8_t)FIELD_GET(EVT1_CLASS, d[1]);
	ex->evt_input = d[2];
	if (ex->evt_id == EVT_F_STE_FETCH || ex->evt_id == EVT_F_CD_FETCH ||
	    ex->evt_id == EVT_F_WALK_EABT)
		ex->evt_fetch = d[3] & EVT3_FETCH;
	else if (ex->evt_s2)
		ex->evt_ipa = d[3] & EVT3_IPA;
}

/* The stage-1 output: what the last stage-2 walk (CLASS IN) translated. */
static uint64_t explain_ipa(const struct sio_smmu_explain *ex)
{
	for (unsigned int i = ex->nreads; i-- > 0;) {
		const struct sio_smmu_read *r = &ex->read[i];

		if (r->kind == SIO_SMMU_READ_S2 && r->class == EVT_CLASS_IN)
			return r->in;
	}
	return ex->res.pa;
}

int sio_smmu_translate_explain(struct sio_smmu *smmu,
			       const struct sio_smmu_txn *txn,
			       struct sio_smmu_explain *ex)
{
	bool write = txn->attr & SIO_SMMU_WRITE;
	uint64_t need = tlb_need(write, (txn->attr & SIO_SMMU_EXEC) && !write,
				 txn->attr & SIO_SMMU_PRIV);
	struct smmu_pending p = {.set = false, .stall = false};
	struct smmu_trace trace = {.ex = ex};
	struct sio_smmu_result cached;
	struct sio_mem_guard g;
	uint64_t perm;

	if (txn->attr & SIO_SMMU_TRANSLATED)
		return -EINVAL;
	memset(ex, 0, sizeof(*ex));
	if ((atomic_load(&smmu->cr0) & CR0_SMMUEN) &&
	    !tlb_hit(smmu, txn, need, &cached, &perm)) {
		ex->cached = true;
		ex->cached_pa = cached.pa;
	}
	sio_mem_enter(smmu->bus, &g);
	ex->rc = translate_walk(smmu, &g, txn, &ex->res, &p, &trace);
	sio_mem_exit(smmu->bus, &g);
	if (ex->rc && ex->res.event)
		explain_event(ex, &p);
	if (!ex->rc)
		ex->ipa = explain_ipa(ex);
	return 0;
}
