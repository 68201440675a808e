// SPDX-License-Identifier: GPL-2.0-or-later
/* Starting, skipping and joining the helper threads of a shared job (workers.h). */
#include "workers.h"

#include <pthread.h>
#include <sched.h>

int workers_available(void)
{
	cpu_set_t cpus;
	int n;

	if (sched_getaffinity(0, sizeof(cpus), &cpus) < 0)
		return 1;
	n = CPU_COUNT(&cpus);
	return n < 1 ? 1 : n > WORKERS_MAX ? WORKERS_MAX : n;
}

int workers_run(void *(*fn)(void *), void *args, size_t size, int n)
{
	pthread_t tid[WORKERS_MAX];
	int ran[WORKERS_MAX] = { 0 }, count = 1;
	char *base = args;

	if (n > WORKERS_MAX)
		n = WORKERS_MAX;
	for (int k = 1; k < n; k++)
		ran[k] = pthread_create(&tid[k], NULL, fn, base + (size_t)k * size) == 0;
	fn(base);
	for (int k = 1; k < n; k++)
		if (ran[k]) {
			pthread_join(tid[k], NULL);
			count++;
		}
	return count;
}
