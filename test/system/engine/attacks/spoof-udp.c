/*
 * A container with Docker's default CAP_NET_RAW forges an IPv4/UDP packet
 * with any source address (IP_HDRINCL) and sends it:
 *   spoof-udp SRC_IP DST_IP DST_PORT MESSAGE
 * Prints "sent" when the kernel took it (whether it arrives is the test's
 * question), or the error. The other side (busybox has no UDP nc):
 *   spoof-udp listen PORT
 * prints each datagram it receives as "FROM MESSAGE", one per line.
 */
#include <arpa/inet.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static unsigned short checksum(const void *data, int len) {
  const unsigned short *p = data;
  unsigned long sum = 0;
  for (; len > 1; len -= 2) sum += *p++;
  if (len) sum += *(const unsigned char *)p;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return (unsigned short)~sum;
}

static int listen_udp(int port) {
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in me = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_ANY)};
  if (s < 0 || bind(s, (struct sockaddr *)&me, sizeof me) < 0) {
    perror("bind");
    return 1;
  }
  for (;;) {
    char buf[1500];
    struct sockaddr_in from;
    socklen_t fromlen = sizeof from;
    ssize_t n = recvfrom(s, buf, sizeof buf - 1, 0, (struct sockaddr *)&from, &fromlen);
    if (n < 0) continue;
    buf[n] = 0;
    printf("%s %s\n", inet_ntoa(from.sin_addr), buf);
    fflush(stdout);
  }
}

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "listen") == 0) return listen_udp(atoi(argv[2]));
  if (argc != 5) {
    fprintf(stderr, "usage: %s SRC_IP DST_IP DST_PORT MESSAGE\n", argv[0]);
    return 2;
  }
  size_t len = strlen(argv[4]);
  unsigned char packet[1500];
  if (sizeof(struct iphdr) + sizeof(struct udphdr) + len > sizeof packet) return 2;
  memset(packet, 0, sizeof packet);
  struct iphdr *ip = (struct iphdr *)packet;
  struct udphdr *udp = (struct udphdr *)(packet + sizeof *ip);
  memcpy(packet + sizeof *ip + sizeof *udp, argv[4], len);
  ip->version = 4;
  ip->ihl = 5;
  ip->ttl = 64;
  ip->protocol = IPPROTO_UDP;
  ip->tot_len = htons(sizeof *ip + sizeof *udp + len);
  ip->saddr = inet_addr(argv[1]);
  ip->daddr = inet_addr(argv[2]);
  ip->check = checksum(ip, sizeof *ip);
  udp->source = htons(40000);
  udp->dest = htons(atoi(argv[3]));
  udp->len = htons(sizeof *udp + len);
  udp->check = 0; /* optional over IPv4 */
  int s = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
  if (s < 0) {
    perror("socket");
    return 1;
  }
  struct sockaddr_in to = {.sin_family = AF_INET, .sin_addr.s_addr = ip->daddr};
  for (int i = 0; i < 3; i++) {
    if (sendto(s, packet, ntohs(ip->tot_len), 0, (struct sockaddr *)&to, sizeof to) < 0) {
      perror("sendto");
      return 1;
    }
    usleep(200000);
  }
  puts("sent");
  return 0;
}
