// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The BPF owner lookup's loader: the iter/task_file program (src/bpf/taskfiles.bpf.c),
 * compiled by the build and embedded in this binary, loaded and turned into one iterator
 * descriptor. The descriptor keeps the program alive by itself, so everything else is
 * released before returning; reading it runs the program over every task.
 *
 * Two loaders, the first that works: the light skeleton bpftool generates from the same
 * object (build/bpf/taskfiles.lskel.h), whose loader program runs in the kernel and has the
 * kernel apply the CO-RE relocations against the BTF it already holds (Linux 5.17 and later:
 * ~3 ms and no memory to speak of), then libbpf, which reads and parses the kernel's whole
 * BTF in user space first (~5 MB: 15-25 ms and as many MB of page faults, on every run that
 * looks up owners).
 */
#include "taskfiles.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>

#include "taskfiles.lskel.h"

/* The object file, placed in .rodata by the assembler (the Makefile builds it first). */
__asm__(".pushsection .rodata\n"
	".balign 8\n"
	".globl taskfiles_obj_start\n"
	"taskfiles_obj_start:\n"
	".incbin \"" SOCKREAP_TASKFILES_OBJ "\"\n"
	".globl taskfiles_obj_end\n"
	"taskfiles_obj_end:\n"
	".popsection\n");
extern const char taskfiles_obj_start[], taskfiles_obj_end[];

/* libbpf reports every failed probe on stderr: the caller says the one thing that matters. */
static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	(void)fmt;
	(void)ap;
	return 0;
}

/* An iterator descriptor over prog, attached here (the link is released: the fd keeps it). */
static int iter_of(struct bpf_program *prog)
{
	struct bpf_link *link = prog ? bpf_program__attach_iter(prog, NULL) : NULL;
	int fd;

	if (!link)
		return prog ? -errno : -ENOENT;
	fd = bpf_iter_create(bpf_link__fd(link));
	if (fd < 0)
		fd = -errno;
	bpf_link__destroy(link);
	return fd;
}

/* The light skeleton's descriptor of the program called name (NULL: no such program). */
static int light_prog_fd(const struct taskfiles_lskel *skel, const char *name)
{
	if (!strcmp(name, "taskfiles"))
		return skel->progs.taskfiles.prog_fd;
	if (!strcmp(name, "taskfiles_in_states"))
		return skel->progs.taskfiles_in_states.prog_fd;
	if (!strcmp(name, "tcpsocks"))
		return skel->progs.tcpsocks.prog_fd;
	return -1;
}

/* An iterator descriptor over the program behind prog_fd (the link is released). */
static int light_iter(int prog_fd)
{
	int link, fd;

	if (prog_fd < 0)
		return -ENOENT;
	link = skel_link_create(prog_fd, 0, BPF_TRACE_ITER);
	if (link < 0)
		return -errno;
	fd = bpf_iter_create(link);
	if (fd < 0)
		fd = -errno;
	close(link);
	return fd;
}

/*
 * open_progs through the light skeleton: every program of the object is loaded (the kernel
 * verifies the three small ones in about a millisecond), want_states set before the load.
 */
static int open_light(const char *first, const char *second, uint32_t states, int *second_fd)
{
	struct taskfiles_lskel *skel = taskfiles_lskel__open();
	int ret;

	if (!skel)
		return -ENOMEM;
	skel->rodata->want_states = states;
	ret = taskfiles_lskel__load(skel);
	if (ret == 0)
		ret = light_iter(light_prog_fd(skel, first));
	if (ret >= 0 && second_fd) {
		*second_fd = light_iter(light_prog_fd(skel, second ? second : first));
		if (*second_fd < 0) {
			close(ret);
			ret = *second_fd;
		}
	}
	taskfiles_lskel__destroy(skel);
	return ret;
}

/*
 * Which loader: SOCKREAP_BPF_LOADER=libbpf or =light keeps to one (the tests run both; read
 * with secure_getenv, so a setcap'd run ignores it); unset, or any other value (a typo must
 * not cost every run the slow loader), the light one, then libbpf.
 */
static bool loader_allowed(const char *name)
{
	const char *env = secure_getenv("SOCKREAP_BPF_LOADER");

	if (!env || (strcmp(env, "light") && strcmp(env, "libbpf")))
		return true;
	return !strcmp(env, name);
}

/*
 * Loads the program named first, and the one named second if any, from one object (one BTF
 * parse; the others are not loaded: no verifier time spent on them), with want_states set
 * to states, and returns an iterator over the first; *second_fd gets one over the second.
 * Each is read once, at its own time.
 */
static int open_libbpf(const char *first, const char *second, uint32_t states, int *second_fd,
		       char *why, size_t size)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = "sockreap_taskfiles");
	struct bpf_object *obj;
	struct bpf_program *prog;
	struct bpf_map *rodata;
	const char *step = "open";
	libbpf_print_fn_t was = libbpf_set_print(quiet);
	int ret;

	/*
	 * libbpf reads the kernel's BTF (~5 MB here) into one block and frees it after loading.
	 * Freeing a block that big makes glibc raise its mmap threshold to it, so the dump's
	 * growing arrays would then come from the heap, where each realloc copies and the old
	 * copies stay resident: 3.5 MB more at 100,000 sockets. A fixed threshold (the default
	 * value) keeps large blocks in mmap, as they were.
	 */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);

	obj = bpf_object__open_mem(taskfiles_obj_start,
				   (size_t)(taskfiles_obj_end - taskfiles_obj_start), &opts);
	if (!obj) {
		ret = -errno;
		goto fail;
	}
	bpf_object__for_each_program(prog, obj)
		bpf_program__set_autoload(prog, !strcmp(bpf_program__name(prog), first) ||
						(second && !strcmp(bpf_program__name(prog), second)));
	/* want_states is the only constant of the program: .rodata holds it alone. */
	step = "set the states of";
	rodata = bpf_object__find_map_by_name(obj, ".rodata");
	ret = rodata ? bpf_map__set_initial_value(rodata, &states, sizeof(states)) : -ENOENT;
	if (ret < 0)
		goto cleanup;
	step = "load";
	ret = bpf_object__load(obj);
	if (ret < 0)
		goto cleanup;
	step = "create the iterator";
	ret = iter_of(bpf_object__find_program_by_name(obj, first));
	if (ret >= 0 && second_fd) {
		*second_fd = iter_of(bpf_object__find_program_by_name(obj, second ? second : first));
		if (*second_fd < 0) {
			close(ret);
			ret = *second_fd;
		}
	}
cleanup:
	bpf_object__close(obj);
fail:
	libbpf_set_print(was);
	if (ret >= 0)
		return ret;
	snprintf(why, size, "cannot %s the BPF task_file iterator: %s%s", step, strerror(-ret),
		 ret == -EPERM ? " (needs CAP_BPF and CAP_PERFMON)" : "");
	return ret;
}

/*
 * The programs first and second (see open_libbpf) by the first loader that works. A light
 * load refused for want of privilege is not tried again the slow way: libbpf would be
 * refused too.
 */
static int open_progs(const char *first, const char *second, uint32_t states, int *second_fd,
		      char *why, size_t size)
{
	if (loader_allowed("light")) {
		int ret = open_light(first, second, states, second_fd);

		if (ret >= 0)
			return ret;
		if (!loader_allowed("libbpf") || ret == -EPERM) {
			snprintf(why, size, "cannot load the BPF task_file iterator: %s%s",
				 strerror(-ret),
				 ret == -EPERM ? " (needs CAP_BPF and CAP_PERFMON)" : "");
			return ret;
		}
	}
	return open_libbpf(first, second, states, second_fd, why, size);
}

int taskfiles_open(char *why, size_t size)
{
	return open_progs("taskfiles", NULL, 0, NULL, why, size);
}

int taskfiles_open_pair(uint32_t states, int *second, char *why, size_t size)
{
	if (!states)
		return open_progs("taskfiles", NULL, 0, second, why, size);
	return open_progs("taskfiles_in_states", "taskfiles", states, second, why, size);
}

int taskfiles_open_tcp(char *why, size_t size)
{
	return open_progs("tcpsocks", NULL, 0, NULL, why, size);
}
