/*
 * The kernel's part of the fan-out, without Bun: one 80-byte send() to each of n connected loopback
 * sockets, timed in C (compiled at run time by bun:ffi's TinyCC, see bench/floor.ts). If this figure
 * matches the Bun one, the pool's per-miner floor is the kernel's and not the runtime's.
 *
 * Declared here rather than included: TinyCC in bun:ffi may not see the system headers.
 */
typedef unsigned int u32;
typedef unsigned short u16;
struct sockaddr_in4 { u16 family; u16 port; u32 addr; unsigned char zero[8]; };
struct timespec64 { long sec; long nsec; };
int socket(int domain, int type, int protocol);
int bind(int fd, const void *addr, u32 len);
int listen(int fd, int backlog);
int connect(int fd, const void *addr, u32 len);
int accept(int fd, void *addr, void *len);
int getsockname(int fd, void *addr, u32 *len);
long send(int fd, const void *buf, unsigned long len, int flags);
long recv(int fd, void *buf, unsigned long len, int flags);
int close(int fd);
int clock_gettime(int clock, struct timespec64 *ts);

static double now_us(void) { struct timespec64 t; clock_gettime(1, &t); return t.sec * 1e6 + t.nsec / 1e3; }

/* Writes µs per send for each of `rounds` rounds into out; returns 0, or negative on a socket error. fds: 2n ints. */
int write_floor(int n, int rounds, int *fds, double *out) {
  struct sockaddr_in4 a = {2, 0, 0x0100007f};
  u32 len = sizeof a;
  int l = socket(2, 1, 0);
  if (l < 0 || bind(l, &a, sizeof a) != 0 || listen(l, 4096) != 0 || getsockname(l, &a, &len) != 0) return -1;
  int made = 0;
  int result = -2;
  for (; made < n; made++) {
    int c = socket(2, 1, 0);
    if (c < 0 || connect(c, &a, sizeof a) != 0) break;
    int s = accept(l, 0, 0);
    if (s < 0) { close(c); break; }
    fds[2 * made] = c;
    fds[2 * made + 1] = s;
  }
  if (made == n) {
    char buf[80] = {0};
    char sink[4096];
    for (int r = 0; r < rounds; r++) {
      double t0 = now_us();
      int sent = 0;
      for (int i = 0; i < n; i++) sent += send(fds[2 * i + 1], buf, 80, 0) == 80;
      out[r] = (now_us() - t0) / n;
      if (sent != n) { result = -3; break; }
      result = 0;
      for (int i = 0; i < n; i++) recv(fds[2 * i], sink, sizeof sink, 0);
    }
  }
  for (int i = 0; i < made; i++) { close(fds[2 * i]); close(fds[2 * i + 1]); }
  close(l);
  return result;
}
