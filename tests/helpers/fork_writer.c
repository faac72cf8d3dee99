/*
 * fork_writer: a process that opens a file and forks at once, so that the child writes through
 * the descriptor it inherited. Run inside a container by the end-to-end tests of godo.
 *
 *   fork_writer burst DIR TAG N   N times: open DIR/TAG-I, fork, the child writes "x" to the
 *                                 inherited descriptor and exits; the parent closes the
 *                                 descriptor right after the fork and goes on at once
 *                                 (children are reaped by the kernel: SIGCHLD is ignored).
 *   fork_writer once FILE         open FILE, fork, the child writes and exits, the parent
 *                                 waits for it and only then closes the descriptor.
 *   fork_writer thread FILE       a second thread opens FILE, writes and closes it; the main
 *                                 thread waits for it.
 *
 * Built statically (cc -static) so it runs in the busybox image, which has no C library.
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int open_for_writing(const char *path) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        perror(path);
        exit(2);
    }
    return fd;
}

static void child_writes(int fd) {
    if (write(fd, "x", 1) != 1)
        _exit(3);
    _exit(0);
}

static void *thread_writes(void *path) {
    int fd = open_for_writing(path);
    if (write(fd, "t", 1) != 1)
        exit(3);
    close(fd);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "thread") == 0) {
        pthread_t t;
        if (pthread_create(&t, NULL, thread_writes, argv[2]) != 0) {
            perror("pthread_create");
            return 2;
        }
        pthread_join(t, NULL);
        return 0;
    }
    if (argc == 5 && strcmp(argv[1], "burst") == 0) {
        long n = strtol(argv[4], NULL, 10);
        char path[4096];
        signal(SIGCHLD, SIG_IGN);
        for (long i = 0; i < n; i++) {
            snprintf(path, sizeof path, "%s/%s-%ld", argv[2], argv[3], i);
            int fd = open_for_writing(path);
            pid_t pid = fork();
            if (pid < 0) {
                perror("fork");
                return 2;
            }
            if (pid == 0)
                child_writes(fd);
            close(fd);
        }
        return 0;
    }
    if (argc == 3 && strcmp(argv[1], "once") == 0) {
        int fd = open_for_writing(argv[2]);
        pid_t pid = fork();
        if (pid < 0) {
            perror("fork");
            return 2;
        }
        if (pid == 0)
            child_writes(fd);
        int status = 0;
        waitpid(pid, &status, 0);
        close(fd);
        return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
    }
    fprintf(stderr, "usage: fork_writer burst DIR TAG N | once FILE | thread FILE\n");
    return 2;
}
