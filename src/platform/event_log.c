// SPDX-License-Identifier: MIT
/*
 * The platform's event log: what the kernel's arm-smmu-v3 driver writes
 * to the kernel log for each event record, written to a stream instead
 * (a user-space program has no dmesg).  The decoding follows the event
 * record layout of the SMMUv3 architecture, section 7.3.
 */
#include <inttypes.h>
#include <stdio.h>

#include "platform_private.h"

static const char *event_name(unsigned int id)
{
	switch (id) {
	case 0x01:
		return "F_UUT";
	case 0x02:
		return "C_BAD_STREAMID";
	case 0x03:
		return "F_STE_FETCH";
	case 0x04:
		return "C_BAD_STE";
	case 0x05:
		return "F_BAD_ATS_TREQ";
	case 0x06:
		return "F_STREAM_DISABLED";
	case 0x07:
		return "F_TRANSL_FORBIDDEN";
	case 0x08:
		return "C_BAD_SUBSTREAMID";
	case 0x09:
		return "F_CD_FETCH";
	case 0x0a:
		return "C_BAD_CD";
	case 0x0b:
		return "F_WALK_EABT";
	case 0x10:
		return "F_TRANSLATION";
	case 0x11:
		return "F_ADDR_SIZE";
	case 0x12:
		return "F_ACCESS";
	case 0x13:
		return "F_PERMISSION";
	case 0x20:
		return "F_TLB_CONFLICT";
	case 0x21:
		return "F_CFG_CONFLICT";
	case 0x24:
		return "E_PAGE_REQUEST";
	case 0x25:
		return "F_VMS_FETCH";
	default:
		return "unknown";
	}
}

/* The translation faults carry the access: RnW, InD, PnU, S2, the IPA. */
static bool is_translation_fault(unsigned int id)
{
	return id >= 0x10 && id <= 0x13;
}

static void log_event(void *opaque, const uint64_t ev[4])
{
	struct sio_platform *p = opaque;
	unsigned int id = ev[0] & 0xff;
	FILE *f = p->event_log;

	fprintf(f, "arm-smmu-v3: event 0x%02x received: %s sid %#" PRIx64, id,
		event_name(id), ev[0] >> 32);
	if (ev[0] & (1u << 11))
		fprintf(f, " ssid %#" PRIx64, (ev[0] >> 12) & 0xfffff);
	if (is_translation_fault(id))
		fprintf(f, " iova %#" PRIx64 " (%s, %s, %s%s)", ev[2],
			ev[1] & (1ull << 35) ? "read" : "write",
			ev[1] & (1ull << 34) ? "instruction" : "data",
			ev[1] & (1ull << 33) ? "privileged" : "unprivileged",
			ev[1] & (1ull << 39) ? ", stage 2" : "");
	fprintf(f, "\n");
	for (int i = 0; i < 4; i++)
		fprintf(f, "\t0x%016" PRIx64 "\n", ev[i]);
	fflush(f);
}

int platform_log_events(struct sio_platform *p, FILE *f)
{
	p->event_log = f;
	return arm_smmu_set_event_handler(p->smmu_drv, log_event, p);
}
