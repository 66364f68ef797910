/* mta_read: fewer system calls on the MTA connections (mta_read.c).
 * libmilter reads every command with a poll and a read for its 5-byte header
 * and another poll and read for the rest, polls once more before each
 * command to see whether the MTA sent one, and polls before each reply; here
 * one read takes all the MTA has sent (a macro frame and its command, a run
 * of headers), the polls and reads that follow are answered from that
 * buffer, and replies go out without a poll unless the socket is full.
 * Threads: pm_mta_read_init from main before smfi_main; the rest from
 * libmilter's threads through the linker wrappers (read, poll, writev, close). */
#ifndef PM_MTA_READ_H
#define PM_MTA_READ_H

/* Sizes the per-descriptor table from RLIMIT_NOFILE (at most 65536
 * descriptors are read ahead; higher ones are read as libmilter asks). */
void pm_mta_read_init(void);
/* fd is a new MTA connection (called by the accept wrapper). */
void pm_mta_read_opened(int fd);

#endif
