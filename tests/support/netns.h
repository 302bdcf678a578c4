/*
 * netns: moves the calling process into a network namespace of its own, with
 * only a loopback interface (brought up), before a test that makes connections
 * a broken guard would let out (169.254.169.254, 10.0.0.1...). Inside, nothing
 * but loopback is reachable: a regression fails the test without a packet
 * leaving the machine. unshare(2) as root, else with a user namespace.
 * Call it before any thread or socket is made.
 */
#ifndef CONNHUB_TESTS_NETNS_H
#define CONNHUB_TESTS_NETNS_H

/* 0, or -1 with the reason on stderr. */
int netns_isolate(void);

/* Added: gives the namespace's loopback one more IPv4 address (/32), say a
 * globally routable one that tests can listen on: nothing outside the
 * namespace is reached. Only after netns_isolate(). 0, or -1 with the reason
 * on stderr. */
int netns_add_addr(const char *ipv4);

#endif
