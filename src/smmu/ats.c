// SPDX-License-Identifier: MIT
/*
 * PCIe ATS (section 3.9.1).  A Translation Request is answered with the
 * translation of the requested pages and the permissions the tables
 * grant at the requested privilege (13.7.1), or refused: UR where ATS is
 * not allowed for the stream, CA for configuration errors.  A Translated
 * transaction carries an address an earlier request returned; it passes
 * through unchecked, or with SMMU_CR0.ATSCHK is checked against the STE's
 * EATS and, for split-stage ATS, translated by stage 2 (3.9.1.3).
 *
 * A request always walks the tables instead of using the TLB: it is the
 * SMMU's only chance to note the device's access in the Access flag and
 * dirty state (3.13.7), which a TLB entry does not say were set.
 */
#include <errno.h>

#include "smmu_txn.h"

/* The Smallest Translation Unit: the smallest granule IDR5 advertises. */
static uint64_t ats_stu(const struct sio_smmu *smmu)
{
	const struct sio_smmu_config *c = &smmu->cfg;

	return c->gran4k ? 4096 : c->gran16k ? 16384 : 65536;
}

/*
 * The effective STE.EATS: split-stage needs ATSCHK (it behaves as 0b00
 * without it), and 0b11 (DPT) is reserved without IDR3.DPT and behaves
 * as 0b00.
 */
static unsigned int effective_eats(struct sio_smmu *smmu,
				   const struct smmu_ste *ste)
{
	if (ste->eats == 1)
		return 1;
	if (ste->eats == 2 && (atomic_load(&smmu->cr0) & CR0_ATSCHK))
		return 2;
	return 0;
}

static bool addr_beyond(uint64_t addr, unsigned int bits)
{
	return bits < 64 && (addr >> bits);
}

/* ---- Translation Requests ---- */

struct ats_request {
	struct smmu_walk w;
	const struct sio_smmu_ats_req *req;
	struct sio_smmu_txn txn; /* the request as a transaction, for events */
	struct smmu_access acc;	 /* its effective attributes */
	struct smmu_pending p;	 /* an event to record after the section */
	struct smmu_ste ste;
	struct smmu_s1 s1cfg;
	const struct smmu_s1 *s1; /* &s1cfg, or NULL when stage 1 bypasses */
	bool split;		  /* EATS 0b10: the completion holds an IPA */
};

static int bad_treq(struct ats_request *r)
{
	struct smmu_event *ev = &r->p.ev;

	smmu_event_init(ev, EVT_F_BAD_ATS_TREQ, &r->txn);
	/* What was asked for, before any override: Write == !NW. */
	ev->d[1] = (r->req->nw ? EVT1_RNW : 0) | (r->acc.instr ? EVT1_IND : 0) |
		   (r->acc.priv ? EVT1_PNU : 0);
	ev->d[2] = r->req->addr & ~0xfffull;
	r->p.set = true;
	return SIO_SMMU_ATS_UR;
}

/* A configuration error: CA, with the event only if REC_CFG_ATS says. */
static int cfg_abort(struct ats_request *r, const struct smmu_cfg_fault *cf)
{
	uint32_t cr2 = atomic_load(&r->w.smmu->cr2);

	if (!(cr2 & CR2_REC_CFG_ATS))
		return SIO_SMMU_ATS_CA;
	if (cf->id == EVT_C_BAD_STREAMID && !(cr2 & CR2_RECINVSID))
		return SIO_SMMU_ATS_CA;
	smmu_cfg_event(&r->p.ev, &r->txn, cf);
	r->p.set = true;
	return SIO_SMMU_ATS_CA;
}

/* An external abort of a walk: a configuration error too. */
static int walk_abort(struct ats_request *r, const struct smmu_fault *f)
{
	if (!(atomic_load(&r->w.smmu->cr2) & CR2_REC_CFG_ATS))
		return SIO_SMMU_ATS_CA;
	smmu_event_init(&r->p.ev, f->id, &r->txn);
	smmu_event_fault(&r->p.ev, &r->acc, f);
	r->p.set = true;
	return SIO_SMMU_ATS_CA;
}

/* The permission bits of @perm for the requested privilege. */
static void grant(struct sio_smmu_ats_entry *e, uint64_t perm, bool priv,
		  bool exe)
{
	e->r = perm & (priv ? TLB_R_PRIV : TLB_R_USER);
	e->w = perm & (priv ? TLB_W_PRIV : TLB_W_USER);
	/* Execute implies read; an execute-only page grants nothing. */
	e->exe = exe && e->r && (perm & (priv ? TLB_X_PRIV : TLB_X_USER));
}

/* An entry granting nothing: one STU, R == W == Exe == 0 (3.9.1.2). */
static int deny(struct sio_smmu_ats_entry *e, const struct sio_smmu *smmu,
		bool priv)
{
	*e = (struct sio_smmu_ats_entry){.priv = priv, .size = ats_stu(smmu)};
	return 0;
}

/*
 * One stage's walk for the request: as a write first when the device
 * means to write (so HTTU marks the page dirty), then as a read if the
 * write is not permitted.  The leaf says what else is allowed.
 */
static int walk_stage(struct ats_request *r, const struct smmu_s1 *s1,
		      uint64_t in, bool try_write, struct smmu_leaf *l,
		      struct smmu_fault *f)
{
	struct smmu_access acc = r->acc;
	const struct smmu_s2 *s2 = r->ste.s2 ? &r->ste.s2cfg : NULL;

	acc.input = in;
	acc.instr = false;
	for (;;) {
		int rc;

		acc.write = try_write;
		if (s1)
			rc = smmu_s1_translate(&r->w, s1, s2, &acc, l, f);
		else
			rc = smmu_s2_translate(&r->w, s2, in, EVT_CLASS_IN,
					       try_write, &acc, l, f);
		if (!rc || !try_write || f->id != EVT_F_PERMISSION)
			return rc;
		try_write = false;
	}
}

/*
 * The entry for untranslated address @va: 0 with @e filled (perhaps
 * granting nothing), or a CA status for an external abort.
 */
static int translate_one(struct ats_request *r, uint64_t va,
			 struct sio_smmu_ats_entry *e)
{
	struct sio_smmu *smmu = r->w.smmu;
	const struct sio_smmu_ats_req *req = r->req;
	bool priv = r->acc.priv;
	uint64_t perm = TLB_RWX, out = va, size = 0;
	struct smmu_leaf l;
	struct smmu_fault f;

	deny(e, smmu, priv);
	if (r->s1) {
		if (walk_stage(r, r->s1, va, !req->nw, &l, &f))
			goto fault;
		perm = l.perm;
		out = l.oa;
		size = l.size;
		e->global = !req->ssv && l.global;
		/* No access at stage 1: stage 2 is not consulted. */
		grant(e, perm, priv, r->acc.instr);
		if (!e->r && !e->w)
			return deny(e, smmu, priv);
	} else if (addr_beyond(va, smmu->oas)) {
		/* Stage 1 skipped: the input must fit the IAS (== OAS). */
		return 0;
	} else if (!r->ste.s2) {
		/* Nothing translates: an identity map of the whole OAS. */
		e->addr = 0;
		e->size = smmu->oas < 64 ? 1ull << smmu->oas : 1ull << 63;
		e->r = e->w = true;
		return 0;
	}
	if (r->ste.s2) {
		if (walk_stage(r, NULL, out,
			       !req->nw && (perm &
					    (priv ? TLB_W_PRIV : TLB_W_USER)),
			       &l, &f))
			goto fault;
		perm &= l.perm;
		if (!size || l.size < size)
			size = l.size;
		if (!r->split)
			out = l.oa;
	}
	grant(e, perm, priv, r->acc.instr);
	if (!e->r && !e->w)
		return deny(e, smmu, priv);
	e->size = size;
	e->addr = out & ~(size - 1);
	return 0;
fault:
	if (smmu_xlate_fault(f.id))
		return deny(e, smmu, priv);
	return walk_abort(r, &f);
}

/*
 * The stage-1 regime for the request, or a completion status: SC with
 * one entry granting nothing if a stage-2 fault stopped the CD fetch.
 */
static int request_regime(struct ats_request *r, bool *nothing)
{
	struct smmu_cfg_fault cf = {0};
	int rc;

	*nothing = false;
	r->s1 = NULL;
	if (!r->ste.s1) {
		if (!r->req->ssv)
			return 0;
		cf.id = EVT_C_BAD_SUBSTREAMID;
		cf.ssid = r->req->ssid;
		return cfg_abort(r, &cf);
	}
	rc = smmu_get_cd(&r->w, &r->ste, &r->txn, &r->acc, &r->s1cfg, &cf);
	if (rc == 0)
		r->s1 = &r->s1cfg;
	if (rc >= 0)
		return 0;
	if (!cf.s2fault)
		return cfg_abort(r, &cf);
	if (smmu_xlate_fault(cf.fault.id)) {
		*nothing = true;
		return 0;
	}
	return walk_abort(r, &cf.fault);
}

static int serve_request(struct ats_request *r, struct sio_smmu_ats_entry *ent,
			 unsigned int max, unsigned int *count)
{
	struct sio_smmu *smmu = r->w.smmu;
	const struct sio_smmu_ats_req *req = r->req;
	uint64_t stu = ats_stu(smmu);
	uint64_t va = req->addr & ~(stu - 1), left;
	struct smmu_cfg_fault cf = {0};
	struct smmu_ste *ste = &r->ste;
	unsigned int eats;
	bool nothing;
	int rc;

	if (!(atomic_load(&smmu->cr0) & CR0_SMMUEN))
		return bad_treq(r);
	if (smmu_get_ste(&r->w, req->sid, ste, &cf))
		return cfg_abort(r, &cf);
	/* Config 0b000: refused without an event. */
	if (ste->abort)
		return SIO_SMMU_ATS_UR;
	/* CR0.ATSCHK read once: the refusal and the mode must agree. */
	eats = effective_eats(smmu, ste);
	if ((!ste->s1 && !ste->s2) || !eats)
		return bad_treq(r);
	r->split = eats == 2;
	r->w.vmid = smmu_ste_vmid(smmu, ste);
	rc = request_regime(r, &nothing);
	if (rc)
		return rc;
	if (nothing) {
		deny(&ent[0], smmu, r->acc.priv);
		*count = 1;
		return SIO_SMMU_ATS_SC;
	}
	/* Bytes asked for, saturating: the span counts STUs. */
	left = req->span > UINT64_MAX / stu ? UINT64_MAX : req->span * stu;
	while (*count < max) {
		struct sio_smmu_ats_entry *e = &ent[*count];
		uint64_t covered;

		rc = translate_one(r, va, e);
		if (rc) {
			*count = 0;
			return rc;
		}
		++*count;
		if (!e->r && !e->w)
			break;
		/* The entry covers from @va to the end of its span. */
		covered = e->size - (va & (e->size - 1));
		if (covered >= left || va + covered == 0)
			break;
		left -= covered;
		va += covered;
	}
	return SIO_SMMU_ATS_SC;
}

int sio_smmu_ats_translate(struct sio_smmu *smmu,
			   const struct sio_smmu_ats_req *req,
			   struct sio_smmu_ats_entry *ent, unsigned int max,
			   unsigned int *count)
{
	struct ats_request r = {.req = req};
	struct sio_mem_guard g;
	int rc;

	if (!smmu || !req || !ent || !count || !max || !req->span ||
	    !smmu->cfg.ats)
		return -EINVAL;
	*count = 0;
	r.txn = (struct sio_smmu_txn){.sid = req->sid,
				      .ssid = req->ssid,
				      .ssv = req->ssv,
				      .addr = req->addr};
	/* Without a PASID the request is for data, unprivileged (13.7). */
	r.acc = (struct smmu_access){.input = req->addr,
				     .write = !req->nw,
				     .instr = req->ssv && req->exe,
				     .priv = req->ssv && req->priv};
	sio_mem_enter(smmu->bus, &g);
	r.w = (struct smmu_walk){.smmu = smmu, .g = &g, .gen = smmu_gen(smmu)};
	rc = serve_request(&r, ent, max, count);
	smmu_pending_hold(smmu, &r.txn, &r.p);
	sio_mem_exit(smmu->bus, &g);
	/* Recording may call back into software: after the section. */
	smmu_pending_record(smmu, &r.p);
	return rc;
}

/* ---- Translated transactions ---- */

static int forbidden(struct smmu_pending *p, const struct sio_smmu_txn *txn,
		     struct sio_smmu_result *res)
{
	struct sio_smmu_txn t = {.sid = txn->sid};
	struct smmu_event *ev = &p->ev;

	/* The record has no SubstreamID: only StreamID, RnW, address. */
	smmu_event_init(ev, EVT_F_TRANSL_FORBIDDEN, &t);
	ev->d[1] = txn->attr & SIO_SMMU_WRITE ? 0 : EVT1_RNW;
	ev->d[2] = txn->addr;
	p->set = true;
	res->event = EVT_F_TRANSL_FORBIDDEN;
	return -EFAULT;
}

/*
 * Through unchanged, as a PA.  An address beyond the OAS is aborted
 * without an event (one of the two behaviours 3.9.1.1 allows).
 */
static int pass_through(struct sio_smmu *smmu, const struct sio_smmu_txn *txn,
			struct sio_smmu_result *res)
{
	if (addr_beyond(txn->addr, smmu->oas))
		return -EFAULT;
	res->pa = txn->addr;
	res->size = smmu->oas < 64 ? (1ull << smmu->oas) - txn->addr
		    : -txn->addr   ? -txn->addr
				   : ~0ull;
	return 0;
}

static int fault_abort(struct smmu_pending *p, const struct sio_smmu_txn *txn,
		       const struct smmu_access *acc,
		       const struct smmu_fault *f, struct sio_smmu_result *res)
{
	smmu_record_fault(p, txn, acc, f);
	res->event = f->id;
	return -EFAULT;
}

/* Split-stage ATS: the address is an IPA, for stage 2 to translate. */
static int split_stage(struct smmu_walk *w, const struct smmu_ste *ste,
		       const struct sio_smmu_txn *txn,
		       struct sio_smmu_result *res, struct smmu_pending *p)
{
	struct smmu_access acc = {.input = txn->addr,
				  .write = txn->attr & SIO_SMMU_WRITE};
	struct smmu_leaf l;
	struct smmu_fault f;

	if (addr_beyond(txn->addr, w->smmu->oas)) {
		/* Checked against the IAS, and reported as stage 1. */
		f = (struct smmu_fault){.id = EVT_F_ADDR_SIZE,
					.class = EVT_CLASS_IN,
					.record = true};
		return fault_abort(p, txn, &acc, &f, res);
	}
	if (smmu_s2_translate(w, &ste->s2cfg, txn->addr, EVT_CLASS_IN,
			      acc.write, &acc, &l, &f))
		return fault_abort(p, txn, &acc, &f, res);
	res->pa = l.oa;
	res->size = smmu_remaining(l.base, l.size, txn->addr);
	return 0;
}

int smmu_translated_walk(struct sio_smmu *smmu, struct sio_mem_guard *g,
			 const struct sio_smmu_txn *txn,
			 struct sio_smmu_result *res, struct smmu_pending *p)
{
	/* No PASID reaches the SMMU (IDR3.PASIDTT == 0): Data, User. */
	struct sio_smmu_txn t = {.sid = txn->sid,
				 .addr = txn->addr,
				 .attr = txn->attr & SIO_SMMU_WRITE};
	struct smmu_walk w = {.smmu = smmu, .g = g, .gen = smmu_gen(smmu)};
	uint32_t cr0 = atomic_load(&smmu->cr0);
	struct smmu_cfg_fault cf = {0};
	struct smmu_ste ste;

	res->event = 0;
	res->perm = t.attr & SIO_SMMU_WRITE ? SIO_MEM_WRITE : SIO_MEM_READ;
	if (!(cr0 & CR0_SMMUEN))
		return forbidden(p, &t, res);
	if (!(cr0 & CR0_ATSCHK))
		return pass_through(smmu, &t, res);
	if (smmu_get_ste(&w, t.sid, &ste, &cf)) {
		/* Recorded with REC_CFG_ATS, whatever RECINVSID says. */
		if (atomic_load(&smmu->cr2) & CR2_REC_CFG_ATS) {
			smmu_cfg_event(&p->ev, &t, &cf);
			p->set = true;
		}
		res->event = cf.id;
		return -EFAULT;
	}
	if (ste.abort)
		return -EFAULT;
	if (!ste.s1 && !ste.s2)
		return forbidden(p, &t, res);
	switch (effective_eats(smmu, &ste)) {
	case 1:
		return pass_through(smmu, &t, res);
	case 2:
		w.vmid = smmu_ste_vmid(smmu, &ste);
		return split_stage(&w, &ste, &t, res, p);
	default:
		return forbidden(p, &t, res);
	}
}
