/* Owns the disk quota of a container's writable layer: a project id per
 * container, its label on the layer's directories and the project's block
 * limit (project quotas, as XFS and ext4 with prjquota provide). Never
 * mounts, never logs, never removes files. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Project ids berth hands out: the upper half of the 32-bit space, away
 * from the small ids administrators number by hand in /etc/projid.
 * (uint32_t) -1 is the kernel's invalid id. */
#define QUOTA_PROJECT_MIN 0x80000000U
#define QUOTA_PROJECT_MAX 0xfffffffeU

/* The file in a container's directory recording its project id. */
#define QUOTA_PROJECT_FILE "quota-project"

/* The id a container's name hashes to, in [QUOTA_PROJECT_MIN,
 * QUOTA_PROJECT_MAX]: the same name gives the same id on every host. */
uint32_t quota_project_from_name(const char *name);

/* The id for name that is not in used[]: its hash, else the next free id
 * after it (wrapping inside the range). 0 when all n_used ids taken
 * would be needed, which n_used < range size rules out. */
uint32_t quota_project_pick(const char *name, const uint32_t *used, size_t n_used);

/* Bytes as the 1 KiB blocks of struct if_dqblk, rounded up. */
uint64_t quota_bytes_to_blocks(uint64_t bytes);

/* Parses a recorded project id ("2147483650\n"): 0 or -EINVAL when it is
 * not a decimal number in the range. */
int quota_project_parse(const char *text, uint32_t *ret);

/* Whether the file system of fd accounts and enforces project quotas:
 * 1 yes, 0 no (including a kernel without quotactl_fd), -errno. */
int quota_supported(int fd);

/* Labels the directory dirfd and everything below it on the same file
 * system with project projid (directories with inheritance, so what is
 * created later inherits it). When dirfd already carries the label the
 * tree is not walked. -ELOOP for a tree deeper than 256 levels. */
int quota_label(int dirfd, uint32_t projid);

/* Sets the block hard limit of project projid on the file system of fd;
 * bytes 0 removes the limit. */
int quota_set_limit(int fd, uint32_t projid, uint64_t bytes);

/* The bytes project projid uses on the file system of fd. */
int quota_usage(int fd, uint32_t projid, uint64_t *ret_bytes);

/* The container name's project id on the containers directory
 * (<state>/containers): the one recorded in NAME/quota-project, else a
 * new one that no sibling has recorded (quota_project_pick), then
 * recorded. */
int quota_project_get(int containers_dfd, const char *name, uint32_t *ret);

/* Everything a start needs for container name, whose directory under
 * containers_dfd holds the writable layer (upper, work): with bytes > 0,
 * labels both with the container's project and sets the limit;
 * -EOPNOTSUPP when the file system has no project quotas. With bytes 0,
 * lifts a limit a previous start set (a recorded project id), else does
 * nothing. */
int quota_container_apply(int containers_dfd, const char *name, uint64_t bytes);

/* Lifts the limit of container name's recorded project, if any (before
 * its directory is removed). */
int quota_container_release(int containers_dfd, const char *name);
