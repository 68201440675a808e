/* SPDX-License-Identifier: GPL-2.0-or-later */
/* sockreap doctor: which engines work on this machine, and why. */
#ifndef SOCKREAP_DOCTOR_H
#define SOCKREAP_DOCTOR_H

#include <stdbool.h>
#include <stdio.h>

/* Tries each engine on a throwaway loopback connection; returns 0 if one works, else 4. */
int doctor_run(FILE *f, bool json);

#endif
