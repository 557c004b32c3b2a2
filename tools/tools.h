/* SPDX-License-Identifier: MIT */
/* Subcommands of the softiommu command. */
#ifndef SIO_TOOLS_H
#define SIO_TOOLS_H

int sio_cmd_demo(int argc, char **argv);
int sio_cmd_exec(int argc, char **argv);
int sio_cmd_info(int argc, char **argv);
int sio_cmd_pgtable(int argc, char **argv);

#endif
