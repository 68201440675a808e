// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The BPF owner lookup's loader: the iter/task_file program (src/bpf/taskfiles.bpf.c),
 * compiled by the build and embedded in this binary, loaded with libbpf and turned into one
 * iterator descriptor. The descriptor keeps the program alive by itself, so everything else
 * is released before returning; reading it runs the program over every task.
 */
#include "taskfiles.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

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

/*
 * Loads the program named first, and the one named second if any, from one object (one BTF
 * parse; the others are not loaded: no verifier time spent on them), with want_states set
 * to states, and returns an iterator over the first; *second_fd gets one over the second.
 * Each is read once, at its own time.
 */
static int open_progs(const char *first, const char *second, uint32_t states, int *second_fd,
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
