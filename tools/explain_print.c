// SPDX-License-Identifier: MIT
/*
 * Printing an explained translation (sio_smmu_translate_explain()): the
 * two-dimensional grid for people, the reads in order, the outcome; and
 * the same as JSON for tools.  Shared by `softiommu explain` and
 * `softiommu demo nested`.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <softiommu/smmu.h>

#include "tools.h"

#define MAX_ROWS 32
#define CELL	 13

/* One row of the grid: a stage-2 walk (by level) and the read it served. */
struct row {
	char label[16];
	int cell[4]; /* the read at each stage-2 level, or -1 */
	int read;    /* the read this walk was for, or -1 */
	bool used;
};

struct grid {
	struct row row[MAX_ROWS];
	unsigned int nrows;
	int s2_min, s2_max; /* stage-2 levels seen; s2_min > s2_max: none */
};

static const char *const class_name[] = {"CD", "TT", "IN", "?"};

static const char *kind_name(unsigned int kind)
{
	switch (kind) {
	case SIO_SMMU_READ_L1STD:
		return "L1STD";
	case SIO_SMMU_READ_STE:
		return "STE";
	case SIO_SMMU_READ_L1CD:
		return "L1CD";
	case SIO_SMMU_READ_CD:
		return "CD";
	case SIO_SMMU_READ_S1:
		return "S1";
	default:
		return "S2";
	}
}

static bool is_table_walk(const struct sio_smmu_read *r)
{
	return r->kind == SIO_SMMU_READ_S1 || r->kind == SIO_SMMU_READ_S2;
}

/* What a descriptor is: table, page, block, invalid; or what was read. */
static const char *desc_type(const struct sio_smmu_read *r)
{
	uint64_t v = r->val[0];

	if (r->abort)
		return "abort";
	if (!is_table_walk(r))
		return kind_name(r->kind);
	if (!(v & 1))
		return "invalid";
	if (r->level == 3)
		return (v & 3) == 3 ? "page" : "invalid";
	return v & 2 ? "table" : "block";
}

/* The address a table, page or block descriptor holds: bits [47:12]. */
static uint64_t desc_out(uint64_t v)
{
	return v & 0xfffffffff000ull;
}

static void row_label(struct row *rw, const struct sio_smmu_read *r)
{
	if (r->kind == SIO_SMMU_READ_S2) {
		if (r->class == SIO_SMMU_CLASS_TT)
			snprintf(rw->label, sizeof(rw->label), "S1 L%u%s",
				 r->s1_level, r->write ? " HTTU" : "");
		else
			snprintf(rw->label, sizeof(rw->label), "%s",
				 r->class == SIO_SMMU_CLASS_CD ? "CD"
							       : "output");
	} else if (r->kind == SIO_SMMU_READ_S1) {
		snprintf(rw->label, sizeof(rw->label), "S1 L%u", r->level);
	} else {
		snprintf(rw->label, sizeof(rw->label), "%s",
			 kind_name(r->kind));
	}
}

static struct row *open_row(struct grid *g)
{
	struct row *rw;

	if (g->nrows == MAX_ROWS)
		return NULL;
	rw = &g->row[g->nrows];
	*rw = (struct row){.cell = {-1, -1, -1, -1}, .read = -1};
	return rw;
}

/*
 * Rows in the order of the walk: each stage-2 walk shares its row with
 * the read it translated the address of (the CD, a stage-1 table
 * descriptor); the last stage-2 walk, of the output IPA, is "output".
 */
static void build_grid(struct grid *g, const struct sio_smmu_explain *ex)
{
	struct row *rw;

	memset(g, 0, sizeof(*g));
	g->s2_min = 4;
	g->s2_max = -1;
	rw = open_row(g);
	for (unsigned int i = 0; i < ex->nreads && rw; i++) {
		const struct sio_smmu_read *r = &ex->read[i];

		if (r->kind == SIO_SMMU_READ_S2) {
			if (rw->used && rw->cell[r->level] >= 0) {
				g->nrows++;
				rw = open_row(g);
				if (!rw)
					break;
			}
			if (!rw->used)
				row_label(rw, r);
			rw->cell[r->level] = (int)i;
			rw->used = true;
			if (r->level < g->s2_min)
				g->s2_min = r->level;
			if (r->level > g->s2_max)
				g->s2_max = r->level;
			continue;
		}
		row_label(rw, r);
		rw->read = (int)i;
		rw->used = true;
		g->nrows++;
		rw = open_row(g);
	}
	if (rw && (rw->used || ex->rc == 0)) {
		if (!rw->used)
			snprintf(rw->label, sizeof(rw->label), "output");
		g->nrows++;
	}
}

/* One cell: read @i (none if < 0), padded unless it ends the line. */
static void print_cell(FILE *f, const struct sio_smmu_explain *ex, int i,
		       bool last)
{
	char buf[32];

	if (i < 0)
		snprintf(buf, sizeof(buf), "%s", "");
	else
		snprintf(buf, sizeof(buf), "#%d %s", i + 1,
			 desc_type(&ex->read[i]));
	fprintf(f, "| %-*s", last ? 0 : CELL - 1, buf);
}

static void print_grid(FILE *f, const struct sio_smmu_explain *ex)
{
	struct grid g;
	char head[16];

	build_grid(&g, ex);
	fprintf(f, "\n  %-10s", "");
	for (int l = g.s2_min; l <= g.s2_max; l++) {
		snprintf(head, sizeof(head), "S2 L%d", l);
		fprintf(f, "| %-*s", CELL - 1, head);
	}
	fprintf(f, "| %s\n  ----------",
		g.s2_max >= 0 ? "read (after S2)" : "read");
	for (int l = g.s2_min; l <= g.s2_max; l++)
		fprintf(f, "+-------------");
	fprintf(f, "+-------------");
	fprintf(f, "%s\n", g.s2_max >= 0 ? "---" : "");
	for (unsigned int n = 0; n < g.nrows; n++) {
		const struct row *rw = &g.row[n];
		bool last = n + 1 == g.nrows;

		fprintf(f, "  %-10s", rw->label);
		for (int l = g.s2_min; l <= g.s2_max; l++)
			print_cell(f, ex, rw->cell[l], false);
		if (rw->read >= 0)
			print_cell(f, ex, rw->read, true);
		else if (last && ex->rc == 0)
			fprintf(f, "| PA %#" PRIx64, ex->res.pa);
		else if (last)
			fprintf(f, "| (faulted)");
		fprintf(f, "\n");
	}
}

/* What the read was for: the address or number its walk translates. */
static void read_for(char *buf, size_t n, const struct sio_smmu_read *r)
{
	switch (r->kind) {
	case SIO_SMMU_READ_L1STD:
	case SIO_SMMU_READ_STE:
		snprintf(buf, n, "StreamID %#" PRIx64, r->in);
		break;
	case SIO_SMMU_READ_L1CD:
	case SIO_SMMU_READ_CD:
		snprintf(buf, n, "CD index %" PRIu64, r->in);
		break;
	case SIO_SMMU_READ_S1:
		snprintf(buf, n, "IOVA %#" PRIx64, r->in);
		break;
	default:
		snprintf(buf, n, "IPA %#" PRIx64, r->in);
	}
}

static void read_what(char *buf, size_t n, const struct sio_smmu_read *r)
{
	if (r->kind == SIO_SMMU_READ_S2) {
		const char *of = r->class == SIO_SMMU_CLASS_CD	 ? "CD"
				 : r->class == SIO_SMMU_CLASS_IN ? "output"
								 : NULL;

		if (of)
			snprintf(buf, n, "S2 L%u (%s)", r->level, of);
		else
			snprintf(buf, n, "S2 L%u (S1 L%u%s)", r->level,
				 r->s1_level, r->write ? " HTTU" : "");
	} else if (r->kind == SIO_SMMU_READ_S1) {
		snprintf(buf, n, "S1 L%u", r->level);
	} else {
		snprintf(buf, n, "%s", kind_name(r->kind));
	}
}

static const char *config_name(unsigned int c)
{
	switch (c) {
	case 4:
		return "bypass";
	case 5:
		return "stage 1";
	case 6:
		return "stage 2";
	case 7:
		return "nested";
	default:
		return "abort";
	}
}

/* A few fields of what was read, so the reader need not decode it. */
static void read_decode(FILE *f, const struct sio_smmu_read *r)
{
	const uint64_t *v = r->val;
	static const char *const tg0[] = {"4K", "64K", "16K", "?"};

	if (r->abort) {
		fprintf(f, "external abort: nothing at this address");
		return;
	}
	switch (r->kind) {
	case SIO_SMMU_READ_STE:
		fprintf(f, "V=%u Config=%u (%s)", (unsigned int)(v[0] & 1),
			(unsigned int)(v[0] >> 1) & 7,
			config_name((unsigned int)(v[0] >> 1) & 7));
		if ((v[0] >> 1) & 1)
			fprintf(f, " S1ContextPtr %#" PRIx64,
				v[0] & UINT64_C(0xffffffffffffc0));
		if ((v[0] >> 2) & 1)
			fprintf(f, " S2TTB %#" PRIx64 " VMID %u",
				v[3] & UINT64_C(0xffffffffffff0),
				(unsigned int)(v[2] & 0xffff));
		break;
	case SIO_SMMU_READ_CD:
		fprintf(f, "V=%u T0SZ=%u TG0=%s TTB0 %#" PRIx64 " ASID %u",
			(unsigned int)(v[0] >> 31) & 1,
			(unsigned int)(v[0] & 63), tg0[(v[0] >> 6) & 3],
			v[1] & UINT64_C(0xffffffffffff0),
			(unsigned int)(v[0] >> 48));
		break;
	case SIO_SMMU_READ_S1:
	case SIO_SMMU_READ_S2:
		if (!strcmp(desc_type(r), "invalid"))
			fprintf(f, "invalid");
		else
			fprintf(f, "%s -> %#" PRIx64, desc_type(r),
				desc_out(v[0]));
		break;
	default:
		fprintf(f, "L2Ptr %#" PRIx64, v[0] & UINT64_C(0xffffffffffc0));
	}
}

static bool has_kind(const struct sio_smmu_explain *ex, unsigned int kind)
{
	for (unsigned int i = 0; i < ex->nreads; i++)
		if (ex->read[i].kind == kind)
			return true;
	return false;
}

static void print_reads(FILE *f, const struct sio_smmu_explain *ex)
{
	fprintf(f, "\n  %3s  %-17s %-24s %-20s %-20s %s\n", "#", "read", "for",
		"at IPA", "at PA", "value");
	for (unsigned int i = 0; i < ex->nreads; i++) {
		const struct sio_smmu_read *r = &ex->read[i];
		char what[32], of[48], ipa[24] = "-";

		read_what(what, sizeof(what), r);
		read_for(of, sizeof(of), r);
		if (r->kind != SIO_SMMU_READ_S2 && r->ipa != r->pa)
			snprintf(ipa, sizeof(ipa), "%#" PRIx64, r->ipa);
		fprintf(f, "  %3u  %-17s %-24s %-20s %#-20" PRIx64 " ", i + 1,
			what, of, ipa, r->pa);
		fprintf(f, "0x%016" PRIx64 "  ", r->val[0]);
		read_decode(f, r);
		fprintf(f, "\n");
	}
	if (ex->truncated)
		fprintf(f, "  ... (more than %d reads: truncated)\n",
			SIO_SMMU_EXPLAIN_MAX);
}

/* Why the walk stopped where it did, from the last read and the event. */
static const char *fault_reason(const struct sio_smmu_explain *ex)
{
	const struct sio_smmu_read *r = ex->nreads ? &ex->read[ex->nreads - 1]
						   : NULL;

	if (r && r->abort)
		return "the read aborted: no memory at that address";
	if (r && is_table_walk(r) && !strcmp(desc_type(r), "invalid"))
		return "the descriptor is invalid";
	switch (ex->evt_id) {
	case 0x10:
		return "the address is outside the input range of the stage";
	case 0x11:
		return "the output address is beyond the output size";
	case 0x12:
		return "the Access flag is 0";
	case 0x13:
		return "the descriptor does not permit the access";
	case 0x04:
		return "the STE is invalid or ILLEGAL";
	case 0x0a:
		return "the CD is invalid or ILLEGAL";
	default:
		return "see the event";
	}
}

static void print_fault(FILE *f, const struct sio_smmu_txn *t,
			const struct sio_smmu_explain *ex)
{
	const char *name = sio_smmu_event_name(ex->evt_id);

	if (!ex->evt_id) {
		fprintf(f, "\naborted without an event (STE Config abort)\n");
		return;
	}
	if (ex->nreads) {
		const struct sio_smmu_read *r = &ex->read[ex->nreads - 1];
		/* Did the last read itself stop the walk, or what followed? */
		bool at = r->abort || r->kind == SIO_SMMU_READ_S2 ||
			  (r->kind == SIO_SMMU_READ_S1 &&
			   strcmp(desc_type(r), "table"));
		char what[32];

		read_what(what, sizeof(what), r);
		fprintf(f, "\nfault %s read #%u (%s): %s\n",
			at ? "at" : "after", ex->nreads, what,
			fault_reason(ex));
	} else {
		fprintf(f, "\nfault before any read: %s\n", fault_reason(ex));
	}
	fprintf(f, "event: %s (%#04x) S2=%u CLASS=%s", name ? name : "?",
		ex->evt_id, ex->evt_s2, class_name[ex->evt_class & 3]);
	if (ex->evt_s2 && !ex->evt_fetch)
		fprintf(f, " IPA %#" PRIx64, ex->evt_ipa);
	if (ex->evt_fetch)
		fprintf(f, " FetchAddr %#" PRIx64, ex->evt_fetch);
	fprintf(f, " InputAddr %#" PRIx64 " %s StreamID %#x — %s\n",
		ex->evt_input, t->attr & SIO_SMMU_WRITE ? "write" : "read",
		t->sid,
		ex->evt_recorded ? "recorded in the event queue"
				 : "not recorded (CD.R / STE.S2R is 0)");
	fprintf(f,
		"record: 0x%016" PRIx64 " 0x%016" PRIx64 " 0x%016" PRIx64
		" 0x%016" PRIx64 "\n",
		ex->evt[0], ex->evt[1], ex->evt[2], ex->evt[3]);
}

void sio_explain_print(FILE *f, const struct sio_smmu_txn *t,
		       const struct sio_smmu_explain *ex)
{
	bool s1 = has_kind(ex, SIO_SMMU_READ_CD);
	bool s2 = has_kind(ex, SIO_SMMU_READ_S2);

	fprintf(f, "%s of %#" PRIx64 " by StreamID %#x: %u descriptor reads\n",
		t->attr & SIO_SMMU_WRITE ? "write" : "read", t->addr, t->sid,
		ex->nreads);
	if (ex->nreads)
		print_grid(f, ex);
	print_reads(f, ex);
	if (ex->rc) {
		print_fault(f, t, ex);
	} else if (s1 && s2) {
		fprintf(f,
			"\noutput: IOVA %#" PRIx64 " -> IPA %#" PRIx64
			" -> PA %#" PRIx64 "\n",
			t->addr, ex->ipa, ex->res.pa);
	} else {
		fprintf(f, "\noutput: %s %#" PRIx64 " -> PA %#" PRIx64 "\n",
			s2 ? "IPA" : "IOVA", t->addr, ex->res.pa);
	}
	if (ex->cached)
		fprintf(f, "the TLB holds PA %#" PRIx64 " for it now%s\n",
			ex->cached_pa,
			ex->rc || ex->cached_pa != ex->res.pa ? " — stale: the "
								"tables say "
								"otherwise"
							      : "");
}

/* ---- JSON ---- */

static void json_hex(FILE *f, const char *key, uint64_t v, bool comma)
{
	fprintf(f, "\"%s\": \"0x%" PRIx64 "\"%s", key, v, comma ? ", " : "");
}

static void json_read(FILE *f, const struct sio_smmu_read *r, unsigned int n)
{
	static const char *const kinds[] = {"?",  "l1std", "ste", "l1cd",
					    "cd", "s1",	   "s2"};

	fprintf(f, "    {\"n\": %u, \"kind\": \"%s\", ", n,
		kinds[r->kind < 7 ? r->kind : 0]);
	if (is_table_walk(r))
		fprintf(f, "\"level\": %u, ", r->level);
	if (r->kind == SIO_SMMU_READ_S2) {
		fprintf(f, "\"class\": \"%s\", ", class_name[r->class & 3]);
		if (r->class == SIO_SMMU_CLASS_TT)
			fprintf(f, "\"s1_level\": %u, ", r->s1_level);
		fprintf(f, "\"httu_write\": %s, ", r->write ? "true" : "false");
	}
	json_hex(f, "in", r->in, true);
	json_hex(f, "ipa", r->ipa, true);
	json_hex(f, "pa", r->pa, true);
	fprintf(f, "\"abort\": %s, \"type\": \"%s\", \"value\": [",
		r->abort ? "true" : "false", desc_type(r));
	for (unsigned int i = 0; i < r->nval && i < 8; i++)
		fprintf(f, "%s\"0x%" PRIx64 "\"", i ? ", " : "", r->val[i]);
	fprintf(f, "]}");
}

void sio_explain_json(FILE *f, const struct sio_smmu_txn *t,
		      const struct sio_smmu_explain *ex)
{
	const char *name = sio_smmu_event_name(ex->evt_id);

	fprintf(f, "{\n  \"sid\": %u, ", t->sid);
	if (t->ssv)
		fprintf(f, "\"ssid\": %u, ", t->ssid);
	json_hex(f, "iova", t->addr, true);
	fprintf(f, "\"access\": \"%s\",\n  \"reads\": [\n",
		t->attr & SIO_SMMU_WRITE ? "write" : "read");
	for (unsigned int i = 0; i < ex->nreads; i++) {
		json_read(f, &ex->read[i], i + 1);
		fprintf(f, "%s\n", i + 1 < ex->nreads ? "," : "");
	}
	fprintf(f, "  ],\n  \"truncated\": %s,\n  \"translated\": %s,\n",
		ex->truncated ? "true" : "false", ex->rc ? "false" : "true");
	if (!ex->rc) {
		fprintf(f, "  ");
		json_hex(f, "ipa", ex->ipa, true);
		json_hex(f, "pa", ex->res.pa, true);
		json_hex(f, "size", ex->res.size, false);
		fprintf(f, ",\n");
	}
	if (ex->cached) {
		fprintf(f, "  ");
		json_hex(f, "tlb_pa", ex->cached_pa, false);
		fprintf(f, ",\n");
	}
	if (!ex->rc || !ex->evt_id) {
		fprintf(f, "  \"fault\": null\n}\n");
		return;
	}
	fprintf(f,
		"  \"fault\": {\"event\": \"%s\", \"id\": %u, \"s2\": %s, "
		"\"class\": \"%s\", ",
		name ? name : "?", ex->evt_id, ex->evt_s2 ? "true" : "false",
		class_name[ex->evt_class & 3]);
	json_hex(f, "ipa", ex->evt_ipa, true);
	json_hex(f, "input", ex->evt_input, true);
	json_hex(f, "fetch", ex->evt_fetch, true);
	fprintf(f, "\"at_read\": %u, \"recorded\": %s, \"record\": [",
		ex->nreads, ex->evt_recorded ? "true" : "false");
	for (int i = 0; i < 4; i++)
		fprintf(f, "%s\"0x%" PRIx64 "\"", i ? ", " : "", ex->evt[i]);
	fprintf(f, "]}\n}\n");
}
