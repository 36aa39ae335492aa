/*
 * The kernel's part of the fan-out, without Bun: one 80-byte send() to each of n connected loopback
 * sockets, timed in C (compiled at run time by bun:ffi's TinyCC, see bench/floor.ts). If this figure
 * matches the Bun one, the pool's per-miner floor is the kernel's and not the runtime's.
 *
 * With `reader`, a forked child process waits in epoll on the receiving ends and reads what arrives,
 * as miners (and the bench's load process) do: each send may then also wake a sleeping process on
 * the other CPU, which is what the pool's fan-out pays. Without it nobody waits on them.
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
/* x86-64's epoll_event is packed: events at 0, data at 4, 12 bytes. */
struct epoll_event4 { u32 events; u32 data_lo; u32 data_hi; };
int epoll_create1(int flags);
int epoll_ctl(int epfd, int op, int fd, struct epoll_event4 *ev);
int epoll_wait(int epfd, struct epoll_event4 *evs, int max, int timeout_ms);
int fork(void);
int waitpid(int pid, int *status, int options);
int usleep(u32 us);
void _exit(int code);

/* The child of a live-reader run: reads every receiving end until `expect` bytes came or all is quiet for 2 s. */
static void read_all(int n, const int *fds, long expect) {
  int ep = epoll_create1(0);
  if (ep < 0) _exit(1);
  for (int i = 0; i < n; i++) {
    struct epoll_event4 ev = {1 /* EPOLLIN */, (u32)fds[2 * i], 0};
    if (epoll_ctl(ep, 1 /* EPOLL_CTL_ADD */, fds[2 * i], &ev) != 0) _exit(2);
  }
  struct epoll_event4 evs[256];
  char sink[4096];
  long got = 0;
  while (got < expect) {
    int k = epoll_wait(ep, evs, 256, 2000);
    if (k <= 0) break;
    for (int j = 0; j < k; j++) {
      long r = recv((int)evs[j].data_lo, sink, sizeof sink, 0x40 /* MSG_DONTWAIT */);
      if (r > 0) got += r;
    }
  }
  _exit(got >= expect ? 0 : 3);
}

static double now_us(void) { struct timespec64 t; clock_gettime(1, &t); return t.sec * 1e6 + t.nsec / 1e3; }

/* Writes µs per send for each of `rounds` rounds into out; returns 0, or negative on an error. fds: 2n ints. */
int write_floor(int n, int rounds, int *fds, double *out, int reader) {
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
  int child = -1;
  if (made == n && reader) {
    child = fork();
    if (child == 0) read_all(n, fds, (long)rounds * n * 80);
    if (child < 0) result = -4;
    usleep(100000); /* the child is asleep in epoll_wait */
  }
  if (made == n && result != -4) {
    char buf[80] = {0};
    char sink[4096];
    for (int r = 0; r < rounds; r++) {
      double t0 = now_us();
      int sent = 0;
      for (int i = 0; i < n; i++) sent += send(fds[2 * i + 1], buf, 80, 0) == 80;
      out[r] = (now_us() - t0) / n;
      if (sent != n) { result = -3; break; }
      result = 0;
      if (child > 0) usleep(50000); /* between blocks the miners are idle again */
      else for (int i = 0; i < n; i++) recv(fds[2 * i], sink, sizeof sink, 0);
    }
  }
  if (child > 0) {
    int status = -1;
    waitpid(child, &status, 0);
    if (status != 0 && result == 0) result = -5;
  }
  for (int i = 0; i < made; i++) { close(fds[2 * i]); close(fds[2 * i + 1]); }
  close(l);
  return result;
}
