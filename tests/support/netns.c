/* netns: a private network namespace for a test process (see netns.h). */
#include "netns.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

int
netns_isolate(void)
{
    struct ifreq ifr;
    int fd, rc;

    if (unshare(CLONE_NEWNET) != 0 && unshare(CLONE_NEWUSER | CLONE_NEWNET) != 0) {
        fprintf(stderr, "netns: unshare: %s (this test needs a network namespace)\n",
                strerror(errno));
        return -1;
    }
    fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        fprintf(stderr, "netns: socket: %s\n", strerror(errno));
        return -1;
    }
    memset(&ifr, 0, sizeof(ifr));
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
    rc = ioctl(fd, SIOCGIFFLAGS, &ifr);
    if (rc == 0) {
        ifr.ifr_flags |= IFF_UP;
        rc = ioctl(fd, SIOCSIFFLAGS, &ifr);
    }
    if (rc != 0)
        fprintf(stderr, "netns: bringing lo up: %s\n", strerror(errno));
    close(fd);
    return rc == 0 ? 0 : -1;
}

int
netns_add_addr(const char *ipv4)
{
    static int label;
    struct ifreq ifr;
    struct sockaddr_in *sin = (struct sockaddr_in *)(void *)&ifr.ifr_addr;
    int fd, rc;

    fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        fprintf(stderr, "netns: socket: %s\n", strerror(errno));
        return -1;
    }
    memset(&ifr, 0, sizeof(ifr));
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo:%d", ++label);
    sin->sin_family = AF_INET;
    rc = inet_pton(AF_INET, ipv4, &sin->sin_addr) == 1 ? ioctl(fd, SIOCSIFADDR, &ifr) : -1;
    if (rc == 0) {
        inet_pton(AF_INET, "255.255.255.255", &sin->sin_addr);
        rc = ioctl(fd, SIOCSIFNETMASK, &ifr);
    }
    if (rc != 0)
        fprintf(stderr, "netns: adding %s to lo: %s\n", ipv4, strerror(errno));
    close(fd);
    return rc == 0 ? 0 : -1;
}
