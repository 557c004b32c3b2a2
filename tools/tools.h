/* SPDX-License-Identifier: MIT */
/* Subcommands of the softiommu command. */
#ifndef SIO_TOOLS_H
#define SIO_TOOLS_H

#include <stdio.h>

#include <softiommu/smmu.h>

int sio_cmd_demo(int argc, char **argv);
int sio_cmd_exec(int argc, char **argv);
int sio_cmd_info(int argc, char **argv);
int sio_cmd_pgtable(int argc, char **argv);
int sio_cmd_explain(int argc, char **argv);
/* demo_nested.c: `softiommu demo nested`; 0 if everything behaved. */
int sio_demo_nested(void);
/* demo_dpdk.c: the DPDK-style driver in the five DMA set-ups. */
int sio_demo_dpdk(void);

/* explain_print.c: an explained translation, for people and for tools. */
void sio_explain_print(FILE *f, const struct sio_smmu_txn *t,
		       const struct sio_smmu_explain *ex);
void sio_explain_json(FILE *f, const struct sio_smmu_txn *t,
		      const struct sio_smmu_explain *ex);

#endif
