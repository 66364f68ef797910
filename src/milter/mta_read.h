/* mta_read: read-ahead on the MTA connections (mta_read.c). libmilter reads
 * every command with a poll and a read for its 5-byte header and another
 * poll and read for the rest, and polls once more before each command to see
 * whether the MTA sent one; here one read takes all the MTA has sent (a
 * macro frame and its command, a run of headers) and the polls and reads
 * that follow are answered from that buffer without a system call.
 * Threads: pm_mta_read_init from main before smfi_main; the rest from
 * libmilter's threads through the linker wrappers (read, poll, close). */
#ifndef PM_MTA_READ_H
#define PM_MTA_READ_H

/* Sizes the per-descriptor table from RLIMIT_NOFILE (at most 65536
 * descriptors are read ahead; higher ones are read as libmilter asks). */
void pm_mta_read_init(void);
/* fd is a new MTA connection (called by the accept wrapper). */
void pm_mta_read_opened(int fd);

#endif
